"""Role by role acceptance of the back office (issue 11): as a collector and as a manager, open
every menu of the Collections app the way the web client does (every view of its action, its
default filters, the records it lists) and press every button a case, a promise, a dispute, a
communication and a customer show. A button either works or is refused by design with a clear
AccessError or UserError; nothing else (no "Access Error" on a button the user is shown)."""

from datetime import timedelta

from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import datetime, dateutil, safe_eval, time

from .common_casework import CaseworkCommon

# View types the web client shows for our actions, and how the test loads each.
DATA_VIEWS = ("list", "kanban")
GROUPED_VIEWS = ("pivot", "graph")


class AcceptanceCommon(CaseworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls._team("North", cls.collector_1 | cls.collector_2)
        cls.invoice = cls._invoice(cls.customer, 800.0, days_late=25)
        cls.invoice_2 = cls._invoice(cls.customer, 200.0, days_late=12)
        cls.invoice_other = cls._invoice(cls.customer_b, 900.0, days_late=25)
        cls.env["collection.run"].create(
            {"company_id": cls.company.id, "run_type": "manual", "date": cls.today}
        )._execute()
        cls.case = cls.env["collection.case"].search([("partner_id", "=", cls.customer.id)])
        cls.case_other = cls.env["collection.case"].search([("partner_id", "=", cls.customer_b.id)])
        cls.case.write({"user_id": cls.collector_1.id, "team_id": cls.team.id})
        cls.case_other.write({"user_id": cls.collector_3.id, "team_id": False})
        cls.promise = cls.env["collection.promise"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "line_ids": [Command.set(cls._instalments(cls.invoice_2).ids)],
                "date": cls.today + timedelta(days=7),
            }
        )
        cls.dispute = cls.env["collection.dispute"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "reason_id": cls.reason_price.id,
                "move_ids": [Command.set(cls.invoice.ids)],
            }
        )
        cls.letter = cls.env["collection.communication"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "channel": "letter",
                "state": "queued",
                "subject": "Reminder letter",
                "line_ids": [Command.set(cls._instalments(cls.invoice).ids)],
            }
        )

    # ------------------------------------------------------------------
    # The web client, reduced to what it asks the server
    # ------------------------------------------------------------------

    def _eval(self, user, expression):
        return safe_eval(
            expression or "{}",
            {
                "uid": user.id,
                "user": user,
                "context_today": lambda: fields.Date.context_today(self.env["res.users"].with_user(user)),
                "datetime": datetime,
                "relativedelta": dateutil.relativedelta.relativedelta,
                "time": time,
                "allowed_company_ids": user.company_ids.ids,
                "current_company_id": user.company_id.id,
                "active_id": False,
                "active_ids": [],
                "context": {},
            },
        )

    def _app_actions(self, user):
        """{menu: action} of every menu of the app this user sees."""
        Menu = self.env["ir.ui.menu"].with_user(user)
        visible = Menu._visible_menu_ids()
        root = self.env.ref("collections_management.collections_menu_root")
        menus = Menu.sudo().search([("id", "child_of", root.id)]).filtered(lambda m: m.id in visible and m.action)
        return {menu: menu.action for menu in menus}

    def _field_spec(self, model, names):
        spec = {}
        for name in names:
            field = model._fields.get(name)
            if not field:
                continue
            spec[name] = {"fields": {"display_name": {}}} if field.type == "many2one" else {}
        return spec

    def _groupby(self, model, node):
        name = node.get("name")
        if model._fields[name].type in ("date", "datetime"):
            return f"{name}:{node.get('interval') or 'month'}"
        return name

    def _top_fields(self, arch):
        """Fields of a view's own model (not those of embedded sub-views)."""
        names = []
        for node in arch.iter("field"):
            ancestor = node.getparent()
            nested = False
            while ancestor is not None:
                if ancestor.tag == "field":
                    nested = True
                    break
                ancestor = ancestor.getparent()
            if not nested:
                names.append(node.get("name"))
        return names

    def _load_action(self, user, action, extra_context=None):
        """Open an act_window as the web client would: every view, the default filters, the
        records listed (read with the list's fields), groups for pivot and graph, the form of
        the first record (or of a new one). Returns what was listed."""
        context = {**self._eval(user, action.context), **(extra_context or {}), "uid": user.id}
        Model = self.env[action.res_model].with_user(user).with_context(**context)
        modes = [mode for mode in action.view_mode.split(",") if mode != "activity"]
        views = Model.get_views([(False, mode) for mode in modes] + [(action.search_view_id.id, "search")])
        domain = list(self._eval(user, action.domain or "[]"))
        search_arch = etree.fromstring(views["views"]["search"]["arch"])
        for node in search_arch.iter("filter"):
            if context.get(f"search_default_{node.get('name')}") and node.get("domain"):
                domain += self._eval(user, node.get("domain"))
        records = Model.search(domain)
        for mode in modes:
            arch = etree.fromstring(views["views"][mode]["arch"])
            if mode in DATA_VIEWS:
                Model.web_search_read(domain, self._field_spec(Model, self._top_fields(arch)), limit=80)
            elif mode in GROUPED_VIEWS:
                groupby = [
                    self._groupby(Model, node) for node in arch.iter("field") if node.get("type") in ("row", "col")
                ]
                measures = [f"{node.get('name')}:sum" for node in arch.iter("field") if node.get("type") == "measure"]
                Model.formatted_read_group(domain, groupby=groupby[:2], aggregates=["__count", *measures])
            elif mode == "form":
                if records:
                    Form(records[0])
                elif Model.has_access("create"):
                    Form(Model)
            else:
                self.fail(f"{action.name}: view type {mode} is not covered by the acceptance test")
        return records

    def _press(self, record, button):
        """Press a button of a form as its user; return what it returned, or the refusal."""
        if button.get("type") == "action":
            action = self.env["ir.actions.actions"].browse(int(button.get("name")))
            action = self.env[action.type].browse(action.id)
            if action.type == "ir.actions.report":  # printed as the user, like the web client does
                return self.env["ir.actions.report"].with_user(record.env.user)._render_qweb_html(action, record.ids)
            button_context = safe_eval(button.get("context") or "{}", {"id": record.id})
            return self._load_action(record.env.user, action, button_context)
        result = getattr(record, button.get("name"))()
        if isinstance(result, dict) and result.get("type") == "ir.actions.act_window":
            Model = record.env[result["res_model"]].with_context(**result.get("context", {}))
            if result.get("res_id"):
                Form(Model.browse(result["res_id"]))
            elif result.get("view_mode", "").startswith("form"):
                Form(Model)
            else:
                Model.search(result.get("domain") or [])
        return result

    def _form_buttons(self, record, within="."):
        """Buttons of the record's form this user is shown (groups applied by the server,
        ``invisible`` evaluated on the record like the web client does)."""
        views = record.get_views([(False, "form")])
        arch = etree.fromstring(views["views"]["form"]["arch"])
        values = {"context": record.env.context, "uid": record.env.uid, "current_date": str(self.today)}
        shown = views["models"][record._name]
        for name in shown.get("fields", shown):
            field = record._fields[name]
            try:  # fields of other apps the user cannot read (the web client hides them too)
                value = record[name] if field.type != "binary" else False
            except AccessError:
                continue
            if field.type == "many2one":
                value = value.id
            elif field.type in ("one2many", "many2many"):
                value = value.ids
            values[name] = value
        return [
            button
            for scope in arch.xpath(within)
            for button in scope.iter("button")
            if button.get("name")
            and button.get("type")
            and not safe_eval(button.get("invisible") or "False", values)
            and not any(safe_eval(p.get("invisible") or "False", values) for p in button.iterancestors())
        ]

    def _press_every_button(self, record, refused=(), within="."):
        """Press each button of the record's form (each in a savepoint rolled back after).
        ``refused``: names of buttons this user is shown but that refuse by design."""
        outcomes = {}
        for button in self._form_buttons(record, within):
            name = button.get("name")
            savepoint = self.env.cr.savepoint()
            try:
                self._press(record, button)
                outcomes[name] = "ok"
            except (AccessError, UserError) as error:
                self.assertTrue(str(error).strip(), f"{name}: refusal without a message")
                outcomes[name] = f"refused: {error}"
            finally:
                savepoint.close(rollback=True)
        for name, outcome in outcomes.items():
            expected = "refused" if name in refused else "ok"
            label = f"{record._name}.{name} as {record.env.user.name}: {outcome}"
            self.assertEqual(outcome.split(":")[0], expected, label)
        return outcomes


@tagged("post_install", "-at_install")
class TestMenusByRole(AcceptanceCommon):
    def test_collector_opens_every_menu(self):
        actions = self._app_actions(self.collector_1)
        self.assertIn(self.env.ref("collections_management.collection_case_action"), actions.values())
        self.assertNotIn(self.env.ref("collections_management.collection_policy_action"), actions.values())
        for menu, action in actions.items():
            with self.subTest(menu=menu.complete_name):
                self.assertEqual(action.type, "ir.actions.act_window", menu.complete_name)
                listed = self._load_action(self.collector_1, action)
                if action.res_model == "collection.case":
                    self.assertNotIn(self.case_other, listed)

    def test_manager_opens_every_menu(self):
        actions = self._app_actions(self.manager)
        self.assertIn(self.env.ref("collections_management.collection_policy_action"), actions.values())
        for menu, action in actions.items():
            with self.subTest(menu=menu.complete_name):
                self.assertEqual(action.type, "ir.actions.act_window", menu.complete_name)
                self._load_action(self.manager, action)

    def test_new_menus_are_covered(self):
        """The test walks the menu tree: a menu added under the app is loaded too."""
        promises = self.env.ref("collections_management.collection_promise_action")
        extra = self.env["ir.ui.menu"].create(
            {
                "name": "Broken Promises",
                "parent_id": self.env.ref("collections_management.collection_case_menu").id,
                "action": f"ir.actions.act_window,{promises.id}",
            }
        )
        self.assertIn(extra, self._app_actions(self.collector_1))


@tagged("post_install", "-at_install")
class TestButtonsByRole(AcceptanceCommon):
    def test_every_button_as_collector(self):
        collector = self.collector_1
        self._press_every_button(self.case.with_user(collector))
        self._press_every_button(self.promise.with_user(collector))
        self._press_every_button(self.dispute.with_user(collector))
        self._press_every_button(self.letter.with_user(collector))
        self.assertNotIn(
            "action_credit_note", {b.get("name") for b in self._form_buttons(self.dispute.with_user(collector))}
        )

    def test_every_button_as_manager(self):
        self._press_every_button(self.case.with_user(self.manager))
        self._press_every_button(self.promise.with_user(self.manager))
        self._press_every_button(self.dispute.with_user(self.manager))
        self._press_every_button(self.letter.with_user(self.manager))

    def test_customer_collections_tab(self):
        contacts = self.env.ref("base.group_partner_manager")
        (self.collector_1 | self.manager).group_ids = [Command.link(contacts.id)]
        collector_form = Form(self.customer.with_user(self.collector_1))
        with self.assertRaises(AssertionError):  # shown read-only: a manager's decision
            collector_form.collection_excluded = True
        collector_form.collection_optout_sms = True
        collector_form.save()
        manager_form = Form(self.customer.with_user(self.manager))
        manager_form.collection_excluded = True
        manager_form.collection_user_id = self.collector_2
        manager_form.save()
        self.assertRecordValues(
            self.customer,
            [{"collection_optout_sms": True, "collection_excluded": True, "collection_user_id": self.collector_2.id}],
        )
        for user in (self.collector_1, self.manager):
            self._press_every_button(self.customer.with_user(user), within="//page[@name='collections']")

    def test_collector_cannot_open_a_case_of_another_collector(self):
        self.assertTrue(self.case_other)
        with self.assertRaises(AccessError):
            Form(self.case_other.with_user(self.collector_1))
        with self.assertRaises(AccessError):
            self.case_other.with_user(self.collector_1).action_log_contact()


@tagged("post_install", "-at_install")
class TestCaseButtonsDoTheirJob(AcceptanceCommon):
    """Explicit outcomes of the case, promise, dispute and communication buttons for a collector."""

    def test_log_contact_promise_and_dispute_from_the_case(self):
        case = self.case.with_user(self.collector_1)
        action = case.action_log_contact()
        wizard = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        wizard.outcome = "callback"
        wizard.save().action_log()
        # The open dispute keeps the case in "Dispute"; the call back is scheduled for Ana.
        self.assertEqual(self.case.stage_id, self.stage_dispute)
        self.assertIn(self.collector_1, self._activities(self.case).user_id)
        action = case.action_new_promise()
        # One promise under way per customer: the one made last week must be settled or cancelled first.
        second = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        second.date = self.today + timedelta(days=3)
        with self.assertRaisesRegex(ValidationError, "already under way"), self.env.cr.savepoint():
            second.save()  # refused and rolled back, as the request's transaction would be
        self.promise.with_user(self.collector_1).action_cancel()
        promise = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        promise.date = self.today + timedelta(days=3)
        promise.scope = "lines"
        promise.line_ids.add(self._instalments(self.invoice))
        promise.amount = 800.0
        promise = promise.save()
        self.assertRecordValues(promise, [{"state": "open", "amount": 800.0, "user_id": self.collector_1.id}])
        self.assertEqual(self.case.stage_id, self.stage_promise)
        action = case.action_new_dispute()
        dispute = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        dispute.reason_id = self.reason_price
        dispute.move_ids.add(self.invoice_2)
        dispute = dispute.save()
        self.assertRecordValues(dispute, [{"state": "open", "case_id": self.case.id, "amount_disputed": 200.0}])
        self.assertEqual(self.case.stage_id, self.stage_dispute)

    def test_reassign_is_for_managers(self):
        case_form = Form(self.case.with_user(self.collector_1))
        with self.assertRaises(AssertionError):
            case_form.user_id = self.collector_2
        case_form = Form(self.case.with_user(self.manager))
        case_form.user_id = self.collector_2
        case_form.save()
        self.assertEqual(self.case.user_id, self.collector_2)
        action = self.env.ref("collections_management.collection_case_reassign_action")
        self.assertNotIn(
            f"%({action.get_external_id()[action.id]})d",
            {b.get("name") for b in self._form_buttons(self.case.with_user(self.collector_1))},
        )
        with self.assertRaises(AccessError):
            self.env["collection.case.reassign"].with_user(self.collector_1).create({"user_id": self.collector_1.id})

    def test_promise_and_dispute_buttons(self):
        promise = self.promise.with_user(self.collector_1)
        promise.action_check()
        self.assertEqual(self.promise.state, "open")
        promise.action_cancel()
        self.assertEqual(self.promise.state, "cancelled")
        with self.assertRaisesRegex(UserError, "Only open promises"):
            promise.action_cancel()
        dispute = self.dispute.with_user(self.collector_1)
        dispute.action_reject()
        self.assertEqual(self.dispute.state, "rejected")
        dispute.action_reopen()
        dispute.action_accept()
        self.assertEqual(self.dispute.state, "accepted")

    def test_print_letter_as_collector(self):
        result = self.letter.with_user(self.collector_1).action_print_letters()
        self.assertEqual(result["type"], "ir.actions.report")
        self.assertEqual(self.letter.state, "done")
