from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestAssignment(CaseworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collectors = cls.collector_1 | cls.collector_2 | cls.collector_3
        cls.customers = [cls._customer(f"Cliente {index}") for index in range(4)]

    def _new_cases(self, amounts):
        cases = self.env["collection.case"]
        for customer, amount in zip(self.customers, amounts):
            self._invoice(customer, amount, days_late=10)
            cases |= self._open_case(customer)
        return cases

    def test_round_robin_takes_turns_and_remembers_whose_turn(self):
        team = self._team("Everyone", self.collectors)
        cases = self._new_cases([100.0, 200.0, 300.0, 400.0])
        cases[:2]._assign_cases()
        cases[2:]._assign_cases()
        self.assertEqual(
            cases.mapped("user_id"),
            self.collector_1 | self.collector_2 | self.collector_3,
        )
        self.assertEqual(
            [case.user_id for case in cases],
            [self.collector_1, self.collector_2, self.collector_3, self.collector_1],
        )
        self.assertEqual(cases.team_id, team)
        self.assertEqual(team.last_assigned_user_id, self.collector_1)

    def test_balanced_by_open_cases(self):
        self._team("Everyone", self.collectors, method="open_cases")
        busy = [self._customer(f"Ocupado {index}") for index in range(3)]
        for customer in busy:
            self._invoice(customer, 100.0, days_late=10)
        self._open_case(busy[0], user_id=self.collector_1.id)
        self._open_case(busy[1], user_id=self.collector_1.id)
        self._open_case(busy[2], user_id=self.collector_3.id)
        cases = self._new_cases([100.0, 100.0, 100.0])
        cases._assign_cases()
        self.assertEqual([case.user_id for case in cases], [self.collector_2, self.collector_2, self.collector_3])

    def test_closed_cases_do_not_count_as_load(self):
        self._team("Everyone", self.collector_1 | self.collector_2, method="open_cases")
        paid_customer = self._customer("Pagado")
        invoice = self._invoice(paid_customer, 100.0, days_late=10)
        closed = self._open_case(paid_customer, user_id=self.collector_1.id)
        self._register_payment(invoice)
        self.assertTrue(closed.is_closed)
        case = self._new_cases([100.0])
        case._assign_cases()
        self.assertEqual(case.user_id, self.collector_1)

    def test_balanced_by_overdue_amount(self):
        self._team("Everyone", self.collectors, method="amount")
        big, small = self._customer("Grande"), self._customer("Chico")
        self._invoice(big, 5000.0, days_late=10)
        self._invoice(small, 1000.0, days_late=10)
        self._open_case(big, user_id=self.collector_1.id)
        self._open_case(small, user_id=self.collector_2.id)
        cases = self._new_cases([3000.0, 2000.0, 500.0])
        cases._assign_cases()
        # Largest first to the lightest load: 3000 -> Carla (0), 2000 -> Beto (1000), 500 -> Beto (3000 = Carla).
        self.assertEqual([case.user_id for case in cases], [self.collector_3, self.collector_2, self.collector_2])

    def test_team_rules_pick_the_team_in_sequence(self):
        mexico = self._team(
            "Mexico", self.collector_1, domain=f"[('country_id', '=', {self.env.ref('base.mx').id})]", sequence=1
        )
        rest = self._team("Rest of the world", self.collector_2, sequence=2)
        self._invoice(self.customer, 100.0, days_late=10)  # Mexico
        self._invoice(self.customer_b, 100.0, days_late=10)  # United States
        mexican, american = self._open_case(self.customer), self._open_case(self.customer_b)
        (mexican + american)._assign_cases()
        self.assertRecordValues(
            mexican + american,
            [
                {"team_id": mexico.id, "user_id": self.collector_1.id},
                {"team_id": rest.id, "user_id": self.collector_2.id},
            ],
        )

    def test_customer_collector_wins(self):
        team = self._team("Everyone", self.collector_1 | self.collector_3)
        self.customer.with_company(self.company).collection_user_id = self.collector_3
        self._invoice(self.customer, 100.0, days_late=10)
        case = self._open_case(self.customer)
        case._assign_cases()
        self.assertRecordValues(case, [{"user_id": self.collector_3.id, "team_id": team.id}])
        self.assertFalse(team.last_assigned_user_id, "the turn of the round robin is not used")

    def test_engine_assigns_the_cases_it_opens(self):
        team = self._team("Everyone", self.collector_1 | self.collector_2)
        self._invoice(self.customer, 100.0, days_late=10)
        self._invoice(self.customer_b, 100.0, days_late=10)
        self._run()
        cases = self._case(self.customer) | self._case(self.customer_b)
        self.assertEqual(cases.team_id, team)
        self.assertEqual(cases.user_id, self.collector_1 | self.collector_2)

    def test_manual_case_keeps_its_collector(self):
        self._team("Everyone", self.collectors)
        cases = self._new_cases([100.0])
        cases.user_id = self.collector_3
        cases._assign_cases()
        self.assertEqual(cases.user_id, self.collector_3)


@tagged("post_install", "-at_install")
class TestReassignment(CaseworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls._team("Everyone", cls.collector_1 | cls.collector_2 | cls.collector_3)
        cls.cases = cls.env["collection.case"]
        for index in range(4):
            customer = cls._customer(f"Cartera {index}")
            cls._invoice(customer, 100.0 * (index + 1), days_late=10)
            cls.cases |= cls.env["collection.case"].create(
                {
                    "partner_id": customer.id,
                    "company_id": cls.company.id,
                    "user_id": cls.collector_1.id,
                    "team_id": cls.team.id,
                }
            )

    def _wizard(self, cases=None, **values):
        Wizard = self.env["collection.case.reassign"].with_user(self.manager)
        if cases:
            Wizard = Wizard.with_context(active_model="collection.case", active_ids=cases.ids)
        return Wizard.create(values)

    def test_selected_cases_to_another_collector(self):
        wizard = self._wizard(self.cases[:2], mode="user", user_id=self.collector_2.id)
        self.assertEqual(wizard.case_count, 2)
        wizard.action_reassign()
        self.assertEqual(
            [case.user_id for case in self.cases],
            [self.collector_2, self.collector_2, self.collector_1, self.collector_1],
        )

    def test_every_open_case_of_a_collector(self):
        self._register_payment(self._instalments(self.cases[3].open_line_ids.move_id).move_id)
        self.assertTrue(self.cases[3].is_closed)
        self._wizard(from_user_id=self.collector_1.id, mode="user", user_id=self.collector_3.id).action_reassign()
        self.assertEqual(self.cases[:3].user_id, self.collector_3)
        self.assertEqual(self.cases[3].user_id, self.collector_1, "closed cases stay unless asked")

    def test_redistribute_within_a_team(self):
        other = self._team("Back office", self.collector_2 | self.collector_3, method="open_cases")
        self._wizard(self.cases, mode="team", team_id=other.id).action_reassign()
        self.assertEqual(self.cases.team_id, other)
        self.assertEqual(
            [case.user_id for case in self.cases],
            [self.collector_2, self.collector_3, self.collector_2, self.collector_3],
        )

    def test_collector_cannot_reassign(self):
        with self.assertRaises(AccessError):
            self.env["collection.case.reassign"].with_user(self.collector_1).create(
                {
                    "mode": "user",
                    "user_id": self.collector_2.id,
                }
            )


@tagged("post_install", "-at_install")
class TestCaseRecordRules(CaseworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_a = cls._team("Team A", cls.collector_1 | cls.collector_2)
        cls.team_b = cls._team("Team B", cls.collector_3)
        cls._invoice(cls.customer, 100.0, days_late=10)
        cls._invoice(cls.customer_b, 200.0, days_late=10)
        Case = cls.env["collection.case"]
        cls.case_a = Case.create(
            {
                "partner_id": cls.customer.id,
                "team_id": cls.team_a.id,
                "user_id": cls.collector_1.id,
            }
        )
        cls.case_b = Case.create(
            {
                "partner_id": cls.customer_b.id,
                "team_id": cls.team_b.id,
                "user_id": cls.collector_3.id,
            }
        )

    def _visible(self, user):
        return self.env["collection.case"].with_user(user).search([("id", "in", (self.case_a + self.case_b).ids)])

    def test_collector_sees_own_and_team_cases_only(self):
        self.assertEqual(self._visible(self.collector_1), self.case_a)
        self.assertEqual(self._visible(self.collector_2), self.case_a, "a teammate sees the team's cases")
        self.assertEqual(self._visible(self.collector_3), self.case_b)

    def test_collector_cannot_read_another_teams_case(self):
        with self.assertRaises(AccessError):
            self.case_b.with_user(self.collector_1).read(["amount_overdue"])

    def test_collector_reads_invoices_of_own_customers_only(self):
        Move = self.env["account.move"].with_user(self.collector_1)
        moves = Move.search([("move_type", "=", "out_invoice")])
        self.assertEqual(moves.commercial_partner_id, self.customer)

    def test_promises_and_disputes_follow_the_cases(self):
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer_b.id,
                "date": self.today,
                "amount": 200.0,
            }
        )
        self.assertEqual(promise.case_id, self.case_b)
        self.assertFalse(self.env["collection.promise"].with_user(self.collector_1).search([("id", "=", promise.id)]))
        self.assertTrue(self.env["collection.promise"].with_user(self.collector_3).search([("id", "=", promise.id)]))

    def test_manager_sees_all(self):
        self.assertEqual(self._visible(self.manager), self.case_a + self.case_b)
