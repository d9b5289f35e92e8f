from odoo.tests import HttpCase, tagged

from .common_worklist import WorklistCommon


@tagged("post_install", "-at_install")
class TestWorklistTour(WorklistCommon, HttpCase):
    """In a browser, as a collector (not an administrator): the worklist from the menu, then
    three outcomes in a row, each one opening the next customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ana = cls.collector_1
        cls.first = cls._worklist_case("Ferretería Hidalgo", 2000.0, ana, cls.north, "3")
        cls.second = cls._worklist_case("Papelería Juárez", 9000.0, cls.collector_2, cls.north, "2")
        cls.third = cls._worklist_case("Dulcería Allende", 4000.0, ana, cls.north, "2")
        cls._engine_call_task(cls.first, cls.level_prelegal)
        # Carla's customer (team South) is not Ana's to call.
        cls.other = cls._worklist_case("Abarrotes Guerrero", 50000.0, cls.collector_3, cls.south, "3")
        for case, stars in ((cls.first, "3"), (cls.second, "2"), (cls.third, "2"), (cls.other, "3")):
            case.priority = stars

    def test_collector_calls_down_the_worklist(self):
        self.start_tour("/odoo", "collections_worklist_tour", login=self.collector_1.login)
        logged = self.env["collection.communication"].search(
            [("channel", "=", "call"), ("state", "=", "done")], order="id"
        )
        self.assertRecordValues(
            logged,
            [
                {
                    "partner_id": self.first.partner_id.id,
                    "call_outcome": "no_answer",
                    "user_id": self.collector_1.id,
                    "note": False,
                },
                {
                    "partner_id": self.second.partner_id.id,
                    "call_outcome": "promise",
                    "user_id": self.collector_1.id,
                    "note": "Pays on Friday by transfer",
                },
                {
                    "partner_id": self.third.partner_id.id,
                    "call_outcome": "reached",
                    "user_id": self.collector_1.id,
                    "note": "Invoice approved, payment next week",
                },
            ],
        )
        self.assertRecordValues(
            self.second.promise_ids,
            [{"amount": 1000.0, "state": "open", "channel": "call", "user_id": self.collector_1.id}],
        )
        self.assertRecordValues(
            self.first | self.second | self.third | self.other,
            [
                {"stage_id": self.stage_new.id},
                {"stage_id": self.stage_promise.id},
                {"stage_id": self.stage_contacted.id},
                {"stage_id": self.stage_new.id},
            ],
        )
        self.assertFalse(self._communications(partner=self.other.partner_id, channel="call", state="done"))
        callback = self._activities(self.first, self.collector_1).filtered(lambda a: not a.collection_engine_task)
        self.assertEqual(callback.summary, "Call again: no answer")
