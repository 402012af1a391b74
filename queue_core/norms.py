"""Service-time norm profiles from the seeds (tables and seed lines: docs/requirements.md), shipped as data.

A norm of ``None`` means *no norm* (the seeds leave the cell empty), never zero.
``aggregation`` says how a norm is judged: ``mean`` compares the period mean with the
limit (МЭК, ОЭК); ``max`` judges every ticket against the limit (АтомЭнергоСбыт).
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ServiceForm:
    code: str
    name_ru: str
    name_en: str
    wait_min: float | None
    service_min: float | None
    source: str
    prefix: str = ""          # suggested ticket prefix for the topic made from this form
    segment: str = "b2c"


@dataclass(frozen=True, slots=True)
class NormProfile:
    code: str
    title: str
    aggregation: str           # "mean" | "max"
    unit: str                  # "visit" | "personal_account"
    total_visit_max_min: float | None
    source: str
    forms: tuple[ServiceForm, ...] = field(default_factory=tuple)

    def form(self, code: str) -> ServiceForm:
        for f in self.forms:
            if f.code == code:
                return f
        raise KeyError(code)


MEK = NormProfile(
    code="mek",
    title="ООО «МЭК», СТО СМК МЭК УСЭ-01-2023, Приложение А",
    aggregation="mean", unit="visit", total_visit_max_min=None, source="000:730-748",
    forms=(
        ServiceForm("admin", "Обслуживание администратором", "Administrator", 10, 5, "000:739-740", "А"),
        ServiceForm("oprsn_head", "Начальник отдела по работе с населением", "Head of residential customers", None, 10, "000:741", "Н"),
        ServiceForm("osir_reports", "Приём отчётов (отдел сбыта и расчётов)", "Sales & settlements: reports", None, 2, "000:742", "О", "b2b"),
        ServiceForm("oprsn", "Консультация для населения", "Residential consultation", 15, 10, "000:743-744", "Р"),
        ServiceForm("contracts", "Договоры", "Contracts", 10, 30, "000:745-746", "Д", "b2b"),
        ServiceForm("kiu_requests", "Приём заявок (контрольно-инспекционное управление)", "Inspection: applications", 10, 15, "000:747-748", "К"),
    ),
)

OEK = NormProfile(
    code="oek",
    title="ООО «ОЭК», Стандарт качества обслуживания клиентов, v4 2024, §2.1.3",
    aggregation="mean", unit="visit", total_visit_max_min=30, source="001:359-371",
    forms=(
        ServiceForm("dispatch", "Диспетчеризация", "Dispatching", None, 5, "001:363-364", "Д"),
        ServiceForm("contracts", "Договоры энергоснабжения и сервисы", "Supply contracts and services", 10, 15, "001:365-366", "К"),
        ServiceForm("billing_docs", "Платёжные документы", "Payment documents", 5, 5, "001:367-368", "П"),
    ),
)

ATOM = NormProfile(
    code="atom",
    title="АО «АтомЭнергоСбыт», §3.2 (максимум на 1 лицевой счёт)",
    aggregation="max", unit="personal_account", total_visit_max_min=28, source="004:951-992",
    forms=(
        ServiceForm("consult", "Консультация", "Consultation", 8, 8, "004:957-960", "К"),
        ServiceForm("cash", "Кассовая операция", "Cash operation", 4, 4, "004:962-964", "Б"),
        ServiceForm("consult_cash", "Консультация и кассовая операция", "Consultation and cash", 12, 16, "004:966-970", "В"),
    ),
)

PROFILES: dict[str, NormProfile] = {p.code: p for p in (MEK, OEK, ATOM)}
