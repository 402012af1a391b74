import pytest

from tests.server.conftest import API_TOKEN

H = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.mark.parametrize("path", ["/api/v1/queue", "/api/v1/tickets", "/api/v1/reports/topics"])
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}])
def test_api_needs_a_valid_bearer_token(client, path, headers):
    r = client.get(path, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_api_is_closed_when_no_token_is_configured(app, client):
    app.config["API_TOKENS"] = ()
    assert client.get("/api/v1/queue", headers=H).status_code == 401


def test_api_queue(client):
    r = client.get("/api/v1/queue", headers=H)
    assert r.status_code == 200
    body = r.get_json()
    assert {t["code"] for t in body["topics"]} == {"A", "R", "D", "O", "K"} and len(body["windows"]) == 3


def test_api_tickets_of_a_day(client):
    body = client.get("/api/v1/tickets?day=2026-11-17", headers=H).get_json()
    assert body["day"] == "2026-11-17" and len(body["tickets"]) > 20
    t = body["tickets"][0]
    assert t["issued_at"].startswith("2026-11-17") and t["legs"][0]["topic"] in "ARDOK"
    assert "name" not in t and "phone" not in t
    assert client.get("/api/v1/tickets?day=yesterday", headers=H).status_code == 400


def test_api_topic_report(client):
    body = client.get("/api/v1/reports/topics?from=2026-11-16&to=2026-11-18", headers=H).get_json()
    assert {f["key"] for f in body["topics"]} <= {"A", "R", "D", "O", "K"}
    assert sum(f["tickets"] for f in body["topics"]) > 50
    assert all("wait_compliant" in f for f in body["topics"])


@pytest.mark.parametrize("query", ["from=2026-11-18&to=2026-11-16", "from=2000-01-01&to=2026-01-01",
                                   "from=x&to=y", "to=2026-11-16"])
def test_api_topic_report_bad_period(client, query):
    r = client.get(f"/api/v1/reports/topics?{query}", headers=H)
    assert r.status_code == 400 and r.get_json()["error"]["message"]


def test_api_tokens_from_environment(sim_db_file, tmp_path, monkeypatch):
    import shutil

    from server import create_app
    from tests.server.conftest import EXAMPLE
    shutil.copy(sim_db_file, tmp_path / "t.db")
    monkeypatch.setenv("TALON_API_TOKENS", "one-token, two-token")
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}",
                      "OFFICE_TOML": EXAMPLE.read_text(encoding="utf-8")})
    c = app.test_client()
    assert c.get("/api/v1/queue", headers={"Authorization": "Bearer two-token"}).status_code == 200
    assert c.get("/api/v1/queue", headers={"Authorization": "Bearer three"}).status_code == 401
