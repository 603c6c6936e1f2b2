"""Two real `appliance serve` nodes (gunicorn, the real model), each with its own data dir
and index files, on one PostgreSQL: a document ingested through one is cited by the other's
API; a token revoked on one stops on the other at once. The nodes share the secrets dir (the
audit key and the redaction secret), as an install of several nodes does."""
import subprocess
import sys
import time

import pytest

from livetools import node_dirs, operator, start_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
FACT = "# Night shift\n\nThe night porter's desk is in room B214 behind the lifts.\n"


def test_two_serving_nodes_share_documents_and_tokens(pg_url, model_dir, tmp_path, embedder):
    import requests

    gguf = next(model_dir.glob("*.gguf"))
    toml = f'database_url = "{pg_url}"\nllm_model_path = "{gguf}"\nweb_secure_cookies = false\n'
    a, b, c = node_dirs(tmp_path, toml, ["a", "b", "ops"])
    ops, who = operator(c, pg_url, embedder)
    token, info = ops.accounts.tokens.create(who, "two-nodes")
    nodes = []
    try:
        nodes = [start_server(d, None, {}) for d in (a, b)]
        ingest = subprocess.run([sys.executable, "-m", "appliance", "--data-dir", str(a),
                                 "ingest", "--collection", "default", str(_file(tmp_path))],
                                capture_output=True, text=True)
        assert ingest.returncode == 0, ingest.stderr[-2000:]
        committed = time.monotonic()
        headers = {"Authorization": f"Bearer {token}"}
        body = {"model": "appliance", "messages": [
            {"role": "user", "content": "Where is the night porter's desk?"}]}
        cited = []
        while time.monotonic() - committed < 60 and not cited:
            reply = requests.post(nodes[1].url + "/v1/chat/completions", json=body,
                                  headers=headers, timeout=120)
            assert reply.status_code == 200, reply.text
            cited = [c["doc_name"] for c in reply.json()["appliance"]["citations"]]
        assert cited == ["night-shift.md"]  # node B cites what node A's ingest committed
        ops.accounts.tokens.revoke(who, info.id)
        refused = requests.post(nodes[1].url + "/v1/chat/completions", json=body,
                                headers=headers, timeout=60)
        assert refused.status_code == 401
        assert requests.get(nodes[0].url + "/v1/models", headers=headers,
                            timeout=30).status_code == 401
    finally:
        for node in nodes:
            node.stop()
        ops.close()


def _file(tmp_path):
    path = tmp_path / "night-shift.md"
    path.write_text(FACT)
    return path
