from datetime import timedelta

from odoo import fields

from .common_casework import CaseworkCommon


class WorklistCommon(CaseworkCommon):
    """A morning of two teams. Team North (Ana and Beto) and team South (Carla) each have cases;
    every case is set up so that exactly one reason puts it on the worklist, or one reason keeps
    it off."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.north = cls._team("North", cls.collector_1 | cls.collector_2, manager=cls.manager)
        cls.south = cls._team("South", cls.collector_3, manager=cls.manager)

    @classmethod
    def _worklist_case(cls, name, amount, user, team, priority, days_late=20, phone=None):
        partner = cls._customer(name, phone=phone or "+52 55 5555 0000", lang="en_US")
        cls._invoice(partner, amount, days_late=days_late)
        case = cls.env["collection.case"].create(
            {"partner_id": partner.id, "company_id": cls.company.id, "user_id": user.id, "team_id": team.id}
        )
        case.priority = priority
        return case

    @classmethod
    def _contact(cls, case, days_ago, channel="email", state="sent", **values):
        """A contact of ``case``'s customer ``days_ago`` days ago."""
        return cls.env["collection.communication"].create(
            {
                "partner_id": case.partner_id.id,
                "company_id": case.company_id.id,
                "channel": channel,
                "state": state,
                "date": fields.Datetime.now() - timedelta(days=days_ago),
                "subject": "Reminder",
                **values,
            }
        )

    @classmethod
    def _engine_call_task(cls, case, level):
        """The engine's call task of ``case`` for ``level``, as a run schedules it."""
        call = cls._contact(case, 0, channel="call", state="queued", level_id=level.id)
        return cls.env["collection.case"]._collection_schedule_calls(call)
