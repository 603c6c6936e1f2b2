"""The ApplianceError hierarchy: errors a user can cause, each with a clear message."""


class ApplianceError(Exception):
    """Base of every error the appliance reports to a user (exit code 2 / HTTP 4xx)."""

    exit_code = 2


class SettingsError(ApplianceError):
    """A settings file or APPLIANCE_* variable is invalid."""


class ModelError(ApplianceError):
    """A model file is missing or its sha256 does not match the manifest."""


class IngestError(ApplianceError):
    """A file could not be ingested (corrupt, empty, unsupported, oversize)."""


class UnsupportedFileError(IngestError):
    """The file type is not one the appliance can extract."""


class EmptyFileError(IngestError):
    """The file holds no extractable text."""


class OversizeFileError(IngestError):
    """The file is larger than the max_file_bytes setting."""


class CorruptFileError(IngestError):
    """The file could not be parsed."""

    http_status = 422


class RejectedFileError(IngestError):
    """The file's content breaks a safety limit (decompression bomb, too many pages, too deep
    nesting, too much memory or time to extract)."""

    http_status = 422


class NotFoundError(ApplianceError):
    """A document, chunk or other object does not exist."""


class ConsistencyError(ApplianceError):
    """The store and the indexes disagree."""


class PolicyError(ApplianceError):
    """A PII policy file is invalid (names file, line and problem)."""


class AuditError(ApplianceError):
    """The audit log could not be written or verified."""


class InvalidRequest(ApplianceError):
    """A malformed request: empty question, unknown field value, too many inputs."""

    http_status = 400


class Busy(ApplianceError):
    """The model queue is full; try again shortly."""

    http_status = 503


class StoreUnavailable(ApplianceError):
    """The database went away (a restart, a failover to the standby): nothing the request
    wrote was committed, and trying again in a moment is safe."""

    http_status = 503
    retry_after = 5

    def __init__(self) -> None:
        super().__init__("the database is unavailable for a moment (restart or failover); "
                         "nothing was saved by this request: try again")
