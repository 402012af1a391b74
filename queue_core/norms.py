"""Service-time norm profiles from the seeds (tables and seed lines: docs/requirements.md), shipped as data.

A norm of ``None`` means *no norm* (the seeds leave the cell empty), never zero.
``aggregation`` says how a norm is judged: ``mean`` compares the period mean with the
limit (МЭК, ОЭК); ``max`` judges every ticket against the limit (АтомЭнергоСбыт).
A form's service norm is *per personal account* (``per_account``; default: the
profile's ``unit``) when the seed gives it per account: a visit that handled N accounts
(``accounts`` of the ``finish`` command) is judged by its service time / N.

Each profile also carries the priority rule its seed asks for (docs/requirements.md
«Priority»): ``priority_mode`` ``out_of_turn`` (served before the queue) or
``individual`` (an assisted format, no queue-jumping: the ticket is marked and staff
are alerted), and ``priority_max_in_row``, the interleave (at most K priority calls in
a row at a window while others wait; 0 = none, a priority ticket is always next).
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
    per_account: bool | None = None   # service norm per personal account; None: the profile's unit


@dataclass(frozen=True, slots=True)
class NormProfile:
    code: str
    title: str
    aggregation: str           # "mean" | "max"
    unit: str                  # "visit" | "personal_account"
    total_visit_max_min: float | None
    source: str
    forms: tuple[ServiceForm, ...] = field(default_factory=tuple)
    priority_mode: str = "out_of_turn"    # the seed's priority rule (module docstring)
    priority_max_in_row: int = 3          # the interleave; 0 = a priority ticket is always next
    priority_source: str = ""

    def per_account(self, form: ServiceForm | None) -> bool:
        """Whether a topic of ``form`` (or of no form) has its service norm per personal account."""
        if form is not None and form.per_account is not None:
            return form.per_account
        return self.unit == "personal_account"

    def form(self, code: str) -> ServiceForm:
        for f in self.forms:
            if f.code == code:
                return f
        raise KeyError(code)


MEK = NormProfile(
    code="mek",
    title="ООО «МЭК», СТО СМК МЭК УСЭ-01-2023, Приложение А",
    aggregation="mean", unit="visit", total_visit_max_min=None, source="000:730-748",
    priority_mode="out_of_turn", priority_max_in_row=3, priority_source="000:250",
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
    # disabled clients are served out of turn (001:375-377, 001:1439): never behind a walk-in
    priority_mode="out_of_turn", priority_max_in_row=0, priority_source="001:375-377",
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
    # an individual, assisted format for lonely limited-mobility, veteran and blind clients (004:945-949)
    priority_mode="individual", priority_max_in_row=3, priority_source="004:945-949",
    forms=(
        # §3.2 table, «максимальное значение на 1 лицевой счет» (004:957-958)
        ServiceForm("consult", "Консультация", "Consultation", 8, 8, "004:962-970", "К"),
        ServiceForm("cash", "Кассовая операция", "Cash operation", 4, 4, "004:974-980", "Б"),
        ServiceForm("consult_cash", "Консультация и кассовая операция", "Consultation and cash", 12, 16, "004:982-990", "В"),
        ServiceForm("digital", "Привлечение к цифровым сервисам", "Digital-services onboarding", None, 4, "004:970", "Ц"),
        # in-hall procedure norms, Appendix «Дополнительные требования к процедурам» (no wait norm)
        ServiceForm("contract_forms", "Выдача перечня документов и бланка заявления на договор",
                    "Contract: list of documents and application form", None, 5, "004:2765-2771", "Д",
                    per_account=False),
        ServiceForm("contract_check", "Проверка документов на заключение договора",
                    "Contract: checking the documents", None, 10, "004:2773-2833", "З", per_account=True),
        ServiceForm("meter_readings", "Приём показаний приборов учёта", "Meter readings", None, 15,
                    "004:2938-2952", "П", per_account=False),
        ServiceForm("installment", "Соглашение о рассрочке платежа", "Instalment agreement", None, 20,
                    "004:3024-3036", "Р", per_account=False),
        ServiceForm("no_debt", "Справка об отсутствии задолженности", "No-debt certificate", None, 15,
                    "004:3144-3152", "С", per_account=False),
    ),
)

PROFILES: dict[str, NormProfile] = {p.code: p for p in (MEK, OEK, ATOM)}
