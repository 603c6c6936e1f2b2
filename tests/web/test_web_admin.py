"""Admin and auditor pages: users, groups, collections, policy, audit log, verify, export;
and the operations endpoints."""
import io
import json
import re
import zipfile

from webtools import WebUser


def test_only_admins_manage_and_only_admins_and_auditors_audit(world):
    carol, audrey, admin = (world.logged_in(n) for n in ("carol", "audrey", "admin"))
    assert carol.get("/admin").status_code == 403
    assert carol.get("/audit").status_code == 403
    assert carol.post("/admin/users", data={"username": "evil", "role": "admin"}).status_code == 403
    assert audrey.get("/admin").status_code == 403
    assert audrey.get("/audit").status_code == 200
    assert audrey.get("/admin/policy").status_code == 200
    page = admin.get("/admin").text
    for name in ("alice", "bob", "alpha-team", "beta", "handbook"):
        assert name in page


def test_admin_creates_a_user_who_can_log_in_with_the_shown_password(world):
    admin = world.logged_in("admin")
    response = admin.post("/admin/users", data={"username": "dave", "role": "user",
                                                "groups": ["beta-team"]})
    assert response.status_code == 201
    password = re.search(r'id="shown-password">([^<]+)<', response.text).group(1)
    dave = WebUser(world.app, "dave", password)
    assert dave.login().status_code == 303
    assert "beta.md" in dave.get("/documents").text
    # Disabling him ends his session at once.
    assert admin.post("/admin/users/dave/disable").status_code == 303
    assert dave.get("/chat").status_code == 302
    assert admin.post("/admin/users/dave/enable").status_code == 303
    reset = admin.post("/admin/users/dave/password")
    new = re.search(r'id="shown-password">([^<]+)<', reset.text).group(1)
    assert WebUser(world.app, "dave", password).login().status_code == 401
    assert WebUser(world.app, "dave", new).login().status_code == 303
    bad = admin.post("/admin/users", data={"username": "bad name!", "role": "user"})
    assert bad.status_code == 400 and "user name" in bad.text


def test_groups_collections_and_grants_from_the_admin_page(world):
    admin = world.logged_in("admin")
    assert admin.post("/admin/collections", data={"name": "finance"}).status_code == 303
    assert admin.post("/admin/groups", data={"name": "fin-team"}).status_code == 303
    assert admin.post("/admin/grants", data={"group": "fin-team", "collection": "finance",
                                             "access": "write"}).status_code == 303
    assert admin.post("/admin/members", data={"group": "fin-team", "username": "carol",
                                              "action": "add"}).status_code == 303
    carol = world.logged_in("carol")
    assert 'value="finance"' in carol.get("/documents").text  # may upload there now
    admin.post("/admin/members", data={"group": "fin-team", "username": "carol",
                                       "action": "remove"})
    assert admin.post("/admin/groups/fin-team/delete").status_code == 303
    updates = [json.loads(e.details) for e in world.services.audit.events()
               if e.type == "account.update" and e.actor == "admin"]
    assert {"action": "grant", "collection": "finance", "access": "write"} in updates


def test_policy_page_shows_the_active_policy(world):
    page = world.logged_in("audrey").get("/admin/policy").text
    assert world.services.policy.sha256 in page and "PERSON" in page and "pseudonym" in page


def test_audit_log_filters_verify_and_signed_export(world):
    audrey = world.logged_in("audrey")
    page = audrey.get("/audit?type=auth.login.success&actor=audrey").text
    rows = re.findall(r"<tr class=\"outcome-(\w+)\"><td>(\d+)</td>", page)
    assert rows and all(outcome == "success" for outcome, _ in rows)
    assert "auth.login.success" in page and "chat.ask" not in page.split("<tbody>")[1]
    bad_date = audrey.get("/audit?since=not-a-date")
    assert bad_date.status_code == 400 and "ISO 8601" in bad_date.text
    verified = audrey.post("/audit/verify")
    assert verified.status_code == 200 and re.search(r'id="verify-result">Verification: OK',
                                                     verified.text)
    export = audrey.post("/audit/export", data={"format": "jsonl"})
    assert export.status_code == 200 and export.headers["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(export.data)).namelist()
    assert sorted(names) == ["events.jsonl", "manifest.json"]
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(export.data)).read("manifest.json"))
    assert manifest["signature"] and manifest["count"] > 10
    assert audrey.post("/audit/export", data={"format": "nope"}).status_code == 400
    kinds = [e.type for e in world.services.audit.events() if e.actor == "audrey"]
    assert "audit.verify" in kinds and "audit.export" in kinds


def test_health_readiness_and_metrics(world):
    client = world.app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}
    world.logged_in("carol").ask("Which VPN should I use?")
    text = client.get("/metrics").get_data(as_text=True)
    assert client.get("/metrics").headers["Content-Type"].startswith("text/plain; version=0.0.4")
    for name in ("appliance_http_requests_total", "appliance_asks_total",
                 "appliance_queue_wait_seconds_bucket", "appliance_queue_waiting",
                 "appliance_time_to_first_token_seconds_count"):
        assert re.search(rf"^{name}[{{ ]", text, re.M), name
    assert re.search(r'^appliance_asks_total\{outcome="answered",worker="\d+"\} [1-9]', text, re.M)


def test_the_admin_page_shows_each_adapters_quality_report(world, tmp_path):
    adapters = world.services.adapters
    gguf = tmp_path / "a.gguf"
    gguf.write_bytes(b"an adapter file")
    info = adapters.register(gguf, "grounded", "0" * 64, None, {}, "tester")
    report = {"report_version": 1, "evaluated_at": "2026-12-06T09:00:00+00:00",
              "perplexity": {"base": 21.3, "adapter": 21.6, "rise": 0.014},
              "general": {"hellaswag": {"base": {"acc_norm": 0.41, "n": 300},
                                        "adapter": {"acc_norm": 0.33, "n": 300},
                                        "change": {"metric": "acc_norm", "diff": -0.08,
                                                   "interval": [-0.12, -0.04], "n": 300}}},
              "tasks": {"eval_split": {"base": {"answer_f1": 0.21, "citation_rate": 0.4},
                                       "adapter": {"answer_f1": 0.48, "citation_rate": 0.9}}},
              "speed": {"base": {"tokens_per_s": 45.2, "ttft_s": 0.41},
                        "adapter": {"tokens_per_s": 43.0, "ttft_s": 0.44}}}
    adapters.set_metrics(info.version, report)
    admin = world.logged_in("admin")
    page = admin.get("/admin").text
    section = page[page.index('id="adapters"'):]
    assert f"v{info.version} grounded" in section
    assert "hellaswag acc_norm" in section and "0.410" in section and "0.330" in section
    assert "eval_split answer f1" in section and "0.480" in section
    assert "45.2" in section and "21.60" in section
    assert "Activation refused unless forced" in section and "fell 8.0 points" in section
    assert '<meter class="adapter"' in section
    data = admin.get(f"/admin/adapters/{info.version}/report.json").get_json()
    assert data["general"]["hellaswag"]["change"]["diff"] == -0.08
    assert data["regressions"] and data["sha256"] == info.sha256
    assert world.logged_in("audrey").get(f"/admin/adapters/{info.version}/report.json"
                                         ).status_code == 403
    assert admin.get("/admin/adapters/999/report.json").status_code == 404
