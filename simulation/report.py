"""The simulator's report: waits and service against the norms, and the estimate's error."""
from __future__ import annotations

from datetime import datetime

from queue_core.config import OfficeConfig
from storage import stats
from storage.queue_db import QueueDatabase


def build_report(db: QueueDatabase, start: datetime, end: datetime, policy: str, load: float) -> dict:
    config: OfficeConfig = db.config
    with db.sessions() as session:
        rows = stats.fetch_legs(session, config.office_id, start, end)
    topics = stats.summarize(rows, config, "topic")
    normed = [r for r in rows if r.wait_s is not None and config.topic(r.topic).wait_norm_min is not None
              and r.outcome != "no_show"]
    within = sum(r.wait_s / 60 <= config.topic(r.topic).wait_norm_min for r in normed)
    return {
        "profile": config.profile.code,
        "policy": policy,
        "load": load,
        "windows": len(config.windows),
        "tickets": sum(1 for r in rows if r.eta_min is not None or r.outcome != "transferred"),
        "served": sum(f.served for f in topics),
        "no_shows": sum(f.no_shows for f in topics),
        "within_wait_norm_share": round(within / len(normed), 4) if normed else None,
        "eta_mae_min": stats.eta_error(rows),
        "topics": [{
            "code": f.key, "name": config.topic(f.key).name_ru, "tickets": f.tickets,
            "mean_wait_min": f.mean_wait_min, "p90_wait_min": f.p90_wait_min, "norm_wait_min": f.wait_norm_min,
            "within_wait_norm_share": f.within_wait_norm_share, "mean_service_min": f.mean_service_min,
            "p90_service_min": f.p90_service_min, "norm_service_min": f.service_norm_min,
            "wait_compliant": f.wait_compliant, "service_compliant": f.service_compliant,
        } for f in topics],
    }


def _fmt(v, unit="") -> str:
    return "—" if v is None else f"{v:.1f}{unit}" if isinstance(v, float) else f"{v}{unit}"


def render_text(report: dict) -> str:
    lines = [
        f"Talon simulation — profile {report['profile']}, policy {report['policy']}, load {report['load']}, "
        f"{report['windows']} windows",
        f"tickets {report['tickets']}, served {report['served']}, no-shows {report['no_shows']}",
        f"within the wait norm: {_pct(report['within_wait_norm_share'])}; "
        f"wait estimate error (MAE): {_fmt(report['eta_mae_min'], ' min')}",
        "",
        f"{'topic':<6}{'tickets':>8}{'wait mean':>11}{'p90':>7}{'norm':>6}{'within':>8}"
        f"{'service':>9}{'p90':>7}{'norm':>6}  verdict",
    ]
    for t in report["topics"]:
        verdict = {True: "соответствует", False: "НЕ соответствует", None: "нет норматива"}[t["wait_compliant"]]
        lines.append(f"{t['code']:<6}{t['tickets']:>8}{_fmt(t['mean_wait_min']):>11}{_fmt(t['p90_wait_min']):>7}"
                     f"{_fmt(t['norm_wait_min']):>6}{_pct(t['within_wait_norm_share']):>8}"
                     f"{_fmt(t['mean_service_min']):>9}{_fmt(t['p90_service_min']):>7}"
                     f"{_fmt(t['norm_service_min']):>6}  {verdict}")
    return "\n".join(lines)


def _pct(v) -> str:
    return "—" if v is None else f"{100 * v:.0f}%"
