import random
import unicodedata
from datetime import timedelta

from odoo import api, fields, models

# name, country code, city, street, zip, language, phone
DEMO_CUSTOMERS = [
    ("Abarrotes del Bajío", "MX", "León", "Blvd. López Mateos 1520", "37000", "es_MX", "+52 477 123 4567"),
    ("Constructora Anáhuac", "MX", "Ciudad de México", "Insurgentes Sur 1602", "03940", "es_MX", "+52 55 5123 4567"),
    ("Farmacias Santa Lucía", "MX", "Guadalajara", "Av. Vallarta 3233", "44690", "es_MX", "+52 33 3615 2200"),
    ("Transportes del Norte", "MX", "Monterrey", "Av. Constitución 405", "64000", "es_MX", "+52 81 8340 1122"),
    ("Papelería La Pluma", "MX", "Puebla", "Calle 5 de Mayo 210", "72000", "es_MX", "+52 222 246 1890"),
    ("Hotel Caribe Azul", "MX", "Cancún", "Blvd. Kukulcán km 9", "77500", "es_MX", "+52 998 881 4400"),
    ("Café de los Andes", "CO", "Medellín", "Carrera 43A # 1-50", "050021", "es_CO", "+57 300 123 4567"),
    ("Textiles Bogotá", "CO", "Bogotá", "Calle 72 # 10-34", "110231", "es_CO", "+57 310 555 1234"),
    ("Distribuidora Caribe", "CO", "Barranquilla", "Carrera 53 # 76-115", "080020", "es_CO", "+57 315 234 5678"),
    ("Ferretería El Tornillo", "CO", "Cali", "Avenida 6N # 23-45", "760045", "es_CO", "+57 320 987 6543"),
    ("Clínica Dental Sonrisa", "CO", "Cartagena", "Av. San Martín # 8-20", "130001", "es_CO", "+57 301 765 4321"),
    ("Viña Los Robles", "CL", "Santiago", "Av. Apoquindo 4501", "7550000", "es_CL", "+56 9 6123 4567"),
    ("Pesquera Austral", "CL", "Puerto Montt", "Av. Diego Portales 860", "5480000", "es_CL", "+56 9 8765 4321"),
    ("Minera Atacama Servicios", "CL", "Antofagasta", "Av. Grecia 1250", "1240000", "es_CL", "+56 9 5555 1212"),
    ("Librería Providencia", "CL", "Santiago", "Av. Providencia 2124", "7510000", "es_CL", "+56 9 7777 3434"),
    ("Talleres Mecánicos Ebro", "ES", "Zaragoza", "Calle Alfonso I 17", "50003", "es_ES", "+34 612 345 678"),
    ("Aceites del Sur", "ES", "Sevilla", "Calle Sierpes 48", "41004", "es_ES", "+34 622 456 789"),
    ("Gráficas Levante", "ES", "Valencia", "Carrer de Colón 60", "46004", "es_ES", "+34 633 567 890"),
    ("Bodegas Rioja Alta", "ES", "Logroño", "Calle Portales 12", "26001", "es_ES", "+34 644 678 901"),
    ("Hostal Gran Vía", "ES", "Madrid", "Gran Vía 45", "28013", "es_ES", "+34 655 789 012"),
    ("Pampa Agro", "AR", "Córdoba", "Av. Colón 1250", "5000", "es_AR", "+54 9 351 234 5678"),
    ("Estudio Palermo", "AR", "Buenos Aires", "Av. Santa Fe 3253", "C1425", "es_AR", "+54 9 11 2345 6789"),
    ("Andina Alimentos", "PE", "Lima", "Av. Javier Prado Este 4200", "15023", "es_PE", "+51 912 345 678"),
    ("Cusco Tours", "PE", "Cusco", "Av. El Sol 345", "08002", "es_PE", "+51 984 123 456"),
    ("Northwind Traders", "US", "Seattle", "1200 Pine Street", "98101", "en_US", "+1 206 555 0142"),
    ("Blue Ridge Supply", "US", "Asheville", "45 Biltmore Ave", "28801", "en_US", "+1 828 555 0175"),
    ("Lone Star Builders", "US", "Austin", "600 Congress Ave", "78701", "en_US", "+1 512 555 0199"),
    ("Maple Leaf Logistics", "CA", "Toronto", "100 King St W", "M5X 1A9", "en_US", "+1 416 555 0123"),
    ("Atelier Lumière", "FR", "Lyon", "12 Rue de la République", "69002", "fr_FR", "+33 6 12 34 56 78"),
    ("Porto Vinhos", "PT", "Porto", "Rua de Santa Catarina 112", "4000-442", "pt_PT", "+351 912 345 678"),
]

# Days past due, by aging bucket: not yet due, 1-30, 31-60, 61-90, 91-120, over 120.
AGING_OFFSETS = [(-20, 0), (1, 30), (31, 60), (61, 90), (91, 120), (121, 240)]


class CollectionDemo(models.AbstractModel):
    _name = "collection.demo"
    _description = "Collections demo portfolio"

    @api.model
    def _generate_demo_portfolio(self, invoice_count=200, seed=42):
        """Create a believable portfolio for the demo database: 30 customers in several
        countries and ``invoice_count`` posted invoices spread over every aging bucket, some
        partly paid, some in several instalments. Dates are relative to today."""
        rng = random.Random(seed)
        company = self.env.company
        journal = self.env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
        if not journal:
            return
        languages = {code for __, __, __, __, __, code, __ in DEMO_CUSTOMERS}
        for code in languages:
            if not self.env["res.lang"]._lang_get(code):
                self.env["res.lang"]._activate_lang(code)
        # Odoo loads a module's translations after its demo data: load ours now, so that the first
        # reminder run below speaks to each customer in its language.
        self.env["ir.module.module"].search([("name", "=", "collections_management")])._update_translations(
            filter_lang=sorted(languages)
        )
        countries = {c.code: c for c in self.env["res.country"].search([])}
        partners = self.env["res.partner"].create(
            [
                {
                    "name": name,
                    "is_company": True,
                    "country_id": countries[country].id,
                    "city": city,
                    "street": street,
                    "zip": zip_code,
                    "lang": lang,
                    "phone": phone,
                    "email": f"cuentas@{_ascii_domain(name)}.example.com",
                }
                for name, country, city, street, zip_code, lang, phone in DEMO_CUSTOMERS
            ]
        )
        # A collections contact at a few customers: reminders go to them.
        self.env["res.partner"].create(
            [
                {
                    "name": f"Cuentas por cobrar {partner.name}",
                    "parent_id": partner.id,
                    "type": "invoice",
                    "email": f"cobranza@{partner.email.split('@')[1]}",
                    "phone": partner.phone,
                    "lang": partner.lang,
                    "street": partner.street,
                    "city": partner.city,
                    "zip": partner.zip,
                    "country_id": partner.country_id.id,
                    "collection_contact": True,
                }
                for partner in partners[:6]
            ]
        )
        term_30 = self.env.ref("account.account_payment_term_30days")
        term_split = self.env["account.payment.term"].create(
            {
                "name": "50% at 30 days, 50% at 60 days",
                "line_ids": [
                    fields.Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 30}),
                    fields.Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 60}),
                ],
            }
        )
        product = self.env["product.product"].create(
            {
                "name": "Consulting services",
                "type": "service",
                "list_price": 1000.0,
            }
        )
        today = fields.Date.context_today(self)
        move_values = []
        for index in range(invoice_count):
            partner_index = index % len(partners)
            partner = partners[partner_index]
            # Customers range from good payers (nothing older than 30 days late) to bad ones
            # (invoices in every bucket), so the demo shows every level.
            worst_bucket = partner_index % len(AGING_OFFSETS)
            low, high = AGING_OFFSETS[rng.randint(0, worst_bucket)]
            invoice_date = today - timedelta(days=rng.randint(low, high) + 30)
            move_values.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "invoice_date": invoice_date,
                    "invoice_payment_term_id": (term_split if index % 9 == 0 else term_30).id,
                    "invoice_line_ids": [
                        fields.Command.create(
                            {
                                "product_id": product.id,
                                "quantity": rng.randint(1, 5),
                                "price_unit": rng.choice([180.0, 420.0, 750.0, 1250.0, 2400.0, 5300.0]),
                                "tax_ids": [fields.Command.clear()],
                            }
                        )
                    ],
                }
            )
        moves = self.env["account.move"].create(move_values)
        moves.action_post()
        # Some invoices partly paid: a third of their total.
        for move in moves.filtered(lambda m: m.id % 7 == 0):
            self.env["account.payment.register"].with_context(active_model="account.move", active_ids=move.ids).create(
                {"amount": move.amount_total / 3, "payment_date": today}
            )._create_payments()
        policy = company.collection_policy_id
        if policy:
            # The demo contacts customers any day at any hour so its run always sends something.
            policy.write(
                {
                    "contact_saturday": True,
                    "contact_sunday": True,
                    "contact_hour_from": 0.0,
                    "contact_hour_to": 24.0,
                }
            )
            # A preview first: its decisions say, customer by customer, what the run will do and why.
            self.env["collection.run"].create({"company_id": company.id, "run_type": "dry_run"})._execute()
            self.env["collection.run"].create({"company_id": company.id, "run_type": "manual"})._execute()

    @api.model
    def _generate_demo_casework(self):
        """Casework on top of the demo portfolio: two teams with their collectors and manager,
        cases assigned and spread over every stage, promises kept, partly kept, broken and
        open, a payment plan, and open disputes (one past its deadline)."""
        company = self.env.company
        Case = self.env["collection.case"]
        cases = Case.search([("company_id", "=", company.id)])
        if not cases:
            return
        collector_group = self.env.ref("collections_management.collections_management_group_collector")
        manager_group = self.env.ref("collections_management.collections_management_group_manager")
        Users = self.env["res.users"].with_context(no_reset_password=True)

        def user(name, login, group):
            return Users.create(
                {
                    "name": name,
                    "login": login,
                    # Demo only: the README and `make demo` say "password = login".
                    "password": login,
                    "email": f"{login}@example.com",
                    "company_id": company.id,
                    "company_ids": [fields.Command.set(company.ids)],
                    "group_ids": [fields.Command.link(group.id)],
                }
            )

        manager = user("Elena Torres", "elena.torres", manager_group)
        lucia = user("Lucía Fernández", "lucia.fernandez", collector_group)
        diego = user("Diego Ramírez", "diego.ramirez", collector_group)
        sofia = user("Sofía Martín", "sofia.martin", collector_group)
        latam = (
            self.env.ref("base.mx")
            | self.env.ref("base.co")
            | self.env.ref("base.cl")
            | self.env.ref("base.ar")
            | self.env.ref("base.pe")
        )
        Team = self.env["collection.team"]
        Team.create(
            {
                "name": "Latin America",
                "sequence": 1,
                "company_id": company.id,
                "user_id": manager.id,
                "member_ids": [fields.Command.set((lucia | diego).ids)],
                "assignment_method": "round_robin",
                "partner_domain": str([("country_id", "in", latam.ids)]),
            }
        )
        Team.create(
            {
                "name": "Spain and International",
                "sequence": 2,
                "company_id": company.id,
                "user_id": manager.id,
                "member_ids": [fields.Command.set(sofia.ids)],
                "assignment_method": "amount",
            }
        )
        cases._assign_cases()
        work = cases.filtered(lambda case: not case.is_closed).sorted(lambda c: (-c.priority_score, c.id))
        if len(work) < 14:
            return
        today = fields.Date.context_today(self)
        Promise = self.env["collection.promise"]
        reason = self.env.ref("collections_management.collection_dispute_reason_not_received")

        def log(case, outcome, **values):
            return (
                self.env["collection.log.contact"]
                .with_user(case.user_id or self.env.user)
                .create(
                    {
                        "case_id": case.id,
                        "outcome": outcome,
                        **values,
                    }
                )
                .action_log()
            )

        def pay(moves, amount, date):
            self.env["account.payment.register"].with_context(active_model="account.move", active_ids=moves.ids).create(
                {"amount": amount, "payment_date": date, "group_payment": True}
            )._create_payments()

        def oldest_invoice(case):
            return case.overdue_line_ids.sorted("date_maturity")[:1].move_id

        # Legal and escalated
        work[0].stage_id = self.env.ref("collections_management.collection_case_stage_legal")
        log(work[1], "refused", note="The customer says the debt is not theirs to pay.")
        # Contacted, one with a call back
        log(work[2], "reached", note="Accounts payable confirmed the invoices are approved.")
        log(work[3], "callback", note="The controller is travelling; call again on Thursday.")
        log(work[4], "no_answer")
        # Open promises: one single amount, one payment plan with its first amount paid
        log(
            work[5],
            "promise",
            promise_date=today + timedelta(days=7),
            promise_amount=work[5].amount_overdue,
            note="Will pay by transfer next week.",
        )
        plan_case = work[6]
        plan_lines = plan_case.overdue_line_ids
        # A plan never adds up to more than what its instalments owe (collection.promise's rule).
        third = company.currency_id.round(sum(plan_lines.mapped("amount_residual")) / 3 - 0.01)
        plan = Promise.create(
            {
                "partner_id": plan_case.partner_id.id,
                "company_id": company.id,
                "case_id": plan_case.id,
                "user_id": (plan_case.user_id or self.env.user).id,
                "date_made": today - timedelta(days=20),
                "channel": "call",
                "line_ids": [fields.Command.set(plan_lines.ids)],
                "plan_line_ids": [
                    fields.Command.create({"date": today + timedelta(days=days), "amount": third})
                    for days in (-10, 10, 30)
                ],
            }
        )
        pay(oldest_invoice(plan_case), plan.plan_line_ids[0].amount, today - timedelta(days=12))
        # Broken, partly kept and kept promises
        settled = Promise
        for case, share in ((work[7], 0.0), (work[8], 0.0), (work[9], 0.4), (work[10], 1.0)):
            invoice = oldest_invoice(case)
            lines = invoice.line_ids & case.overdue_line_ids
            promise = Promise.create(
                {
                    "partner_id": case.partner_id.id,
                    "company_id": company.id,
                    "case_id": case.id,
                    "user_id": (case.user_id or self.env.user).id,
                    "date_made": today - timedelta(days=20),
                    "date": today - timedelta(days=8),
                    "amount": sum(lines.mapped("amount_residual")),
                    "scope": "lines",
                    "line_ids": [fields.Command.set(lines.ids)],
                    "channel": "email" if share else "call",
                }
            )
            if share:
                pay(invoice, round(promise.amount * share, 2), today - timedelta(days=10))
            settled |= promise
        settled._check_promises()
        # Open disputes, one past its deadline
        log(work[11], "dispute", dispute_reason_id=reason.id, note="Half of the goods never arrived.")
        self.env["collection.dispute"].create(
            {
                "partner_id": work[12].partner_id.id,
                "company_id": company.id,
                "case_id": work[12].id,
                "reason_id": self.env.ref("collections_management.collection_dispute_reason_price").id,
                "move_ids": [fields.Command.set(oldest_invoice(work[12]).ids)],
                "description": "The invoice does not apply the agreed 10% discount.",
                "user_id": manager.id,
                "deadline": today - timedelta(days=3),
            }
        )
        self.env["collection.dispute"]._cron_deadline_alerts()
        # A customer says it paid its oldest invoice by bank transfer and sent the receipt: its
        # reminders pause while the collector verifies the proof.
        if len(work) > 14:
            claimed = work[14]
            self.env["collection.payment.claim"]._collection_create_claim(
                claimed.partner_id,
                oldest_invoice(claimed).line_ids.filtered_domain(
                    self.env["account.move.line"]._collection_open_domain()
                ),
                {"payment_date": today - timedelta(days=1), "reference": "SPEI 4471-2093"},
                [{"name": "transfer-receipt.pdf", "raw": DEMO_RECEIPT_PDF}],
                source="portal",
            )
        # Paid and closed
        closed = work[13]
        pay(closed.overdue_line_ids.move_id, sum(closed.overdue_line_ids.mapped("amount_residual")), today)


# A one-page PDF standing for a customer's bank-transfer receipt in the demo.
DEMO_RECEIPT_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R"
    b"/Resources<</Font<</F1<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>>>>>>>endobj\n"
    b"4 0 obj<</Length 58>>stream\nBT /F1 12 Tf 20 100 Td (Transfer receipt SPEI 4471-2093) Tj ET\n"
    b"endstream endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _ascii_domain(name):
    """A plain ASCII host name from a company name: mail servers refuse unencoded accents
    ("bajío.example.com")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in ascii_name.lower() if ch.isalnum())[:20]
