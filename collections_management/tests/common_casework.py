from odoo import Command
from odoo.tests import new_test_user

from .common import CollectionsCommon

COLLECTOR_GROUP = "collections_management.collections_management_group_collector"
MANAGER_GROUP = "collections_management.collections_management_group_manager"


class CaseworkCommon(CollectionsCommon):
    """Collections world plus the people who work the cases: three collectors and a manager,
    and the shipped case stages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ref = cls.env.ref
        cls.stage_new = ref("collections_management.collection_case_stage_new")
        cls.stage_contacted = ref("collections_management.collection_case_stage_contacted")
        cls.stage_promise = ref("collections_management.collection_case_stage_promise")
        cls.stage_broken = ref("collections_management.collection_case_stage_broken_promise")
        cls.stage_dispute = ref("collections_management.collection_case_stage_dispute")
        cls.stage_escalated = ref("collections_management.collection_case_stage_escalated")
        cls.stage_legal = ref("collections_management.collection_case_stage_legal")
        cls.stage_closed = ref("collections_management.collection_case_stage_closed")
        company_ids = [Command.set(cls.company.ids)]
        cls.collector_1, cls.collector_2, cls.collector_3 = (
            new_test_user(
                cls.env,
                login=login,
                name=name,
                groups=COLLECTOR_GROUP,
                company_id=cls.company.id,
                company_ids=company_ids,
            )
            for login, name in (("ana", "Ana Collector"), ("beto", "Beto Collector"), ("carla", "Carla Collector"))
        )
        cls.manager = new_test_user(
            cls.env,
            login="marta",
            name="Marta Manager",
            groups=MANAGER_GROUP,
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.reason_price = ref("collections_management.collection_dispute_reason_price")

    @classmethod
    def _customer(cls, name, country="base.mx", **values):
        return cls.env["res.partner"].create(
            {
                "name": name,
                "is_company": True,
                "email": f"{name.lower().replace(' ', '.')}@example.com",
                "country_id": cls.env.ref(country).id,
                **values,
            }
        )

    @classmethod
    def _team(cls, name, members, method="round_robin", manager=None, domain="[]", sequence=10):
        return cls.env["collection.team"].create(
            {
                "name": name,
                "company_id": cls.company.id,
                "member_ids": [Command.set(members.ids)],
                "user_id": (manager or cls.manager).id,
                "assignment_method": method,
                "partner_domain": domain,
                "sequence": sequence,
            }
        )

    def _case(self, partner=None):
        return self.env["collection.case"].search(
            [
                ("partner_id", "=", (partner or self.customer).id),
                ("company_id", "=", self.company.id),
            ]
        )

    def _open_case(self, partner, **values):
        """The case of ``partner`` as the engine opens it (no assignment)."""
        return self.env["collection.case"].create(
            {
                "partner_id": partner.id,
                "company_id": self.company.id,
                **values,
            }
        )

    def _credit_note(self, invoice, post=True):
        wizard = (
            self.env["account.move.reversal"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({"journal_id": invoice.journal_id.id, "reason": "Dispute"})
        )
        wizard.refund_moves()
        credit_note = wizard.new_move_ids
        if post:
            credit_note.action_post()
        return credit_note

    def _activities(self, record, user=None):
        activities = self.env["mail.activity"].search(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
            ]
        )
        return activities.filtered(lambda a: a.user_id == user) if user else activities
