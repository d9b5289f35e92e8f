from odoo import fields, models


class CollectionTeam(models.Model):
    _name = "collection.team"
    _description = "Collection Team"
    _inherit = ["mail.thread", "collection.partner.rule.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        default=10, help="New cases go to the first team (in this order) whose customer rule matches."
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Manager", tracking=True)
    member_ids = fields.Many2many(
        "res.users",
        "collection_team_member_rel",
        "team_id",
        "user_id",
        string="Collectors",
        domain=lambda self: [
            ("all_group_ids", "in", self.env.ref("collections_management.collections_management_group_collector").id)
        ],
    )
    partner_domain = fields.Char(
        string="Customers Covered",
        default="[]",
        help="Customers whose new cases go to this team. An empty rule covers every customer.",
    )
    assignment_method = fields.Selection(
        [
            ("round_robin", "Round robin"),
            ("open_cases", "Balanced by open cases"),
            ("amount", "Balanced by overdue amount"),
        ],
        default="round_robin",
        required=True,
        help="How a new case gets its collector: in turn, to the collector with the fewest open cases, "
        "or to the collector with the smallest overdue amount in open cases.",
    )
    last_assigned_user_id = fields.Many2one(
        "res.users",
        string="Last Assigned",
        copy=False,
        readonly=True,
        help="Collector who got the last case in round robin.",
    )
    case_ids = fields.One2many("collection.case", "team_id", string="Cases")
    open_case_count = fields.Integer(compute="_compute_case_stats", string="Open Cases")
    amount_overdue = fields.Monetary(
        compute="_compute_case_stats", string="Overdue in Open Cases", currency_field="currency_id"
    )

    def _compute_case_stats(self):
        rows = self.env["collection.case"]._read_group(
            [("team_id", "in", self.ids), ("is_closed", "=", False)],
            ["team_id"],
            ["__count", "amount_overdue:sum"],
        )
        stats = {team.id: (count, amount) for team, count, amount in rows}
        for team in self:
            team.open_case_count, team.amount_overdue = stats.get(team.id, (0, 0.0))

    def _assign_collectors(self, cases):
        """Give a collector of this team to each case of ``cases`` as the team's method says.
        One query for the current load of the team's collectors, one write per collector."""
        self.ensure_one()
        members = self.member_ids.filtered("active").sorted("id")
        if not members or not cases:
            return
        assignment = {member: cases.browse() for member in members}
        if self.assignment_method == "round_robin":
            start = 0
            if self.last_assigned_user_id in members:
                start = list(members).index(self.last_assigned_user_id) + 1
            member = members[:1]
            for index, case in enumerate(cases.sorted("id")):
                member = members[(start + index) % len(members)]
                assignment[member] |= case
            self.sudo().last_assigned_user_id = member
        else:
            by_amount = self.assignment_method == "amount"
            rows = (
                self.env["collection.case"]
                .sudo()
                ._read_group(
                    [
                        ("user_id", "in", members.ids),
                        ("company_id", "=", self.company_id.id),
                        ("is_closed", "=", False),
                        ("id", "not in", cases.ids),
                    ],
                    ["user_id"],
                    ["__count", "amount_overdue:sum"],
                )
            )
            load = dict.fromkeys(members, 0.0)
            for user, count, amount in rows:
                load[user] = amount if by_amount else count
            ordered = cases.sorted(lambda c: (-c.amount_overdue, c.id)) if by_amount else cases.sorted("id")
            for case in ordered:
                member = min(members, key=lambda m: (load[m], m.id))
                assignment[member] |= case
                load[member] += case.amount_overdue if by_amount else 1
        for member, member_cases in assignment.items():
            if member_cases:
                member_cases.write({"user_id": member.id, "team_id": self.id})

    def action_view_cases(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_management.collection_case_action")
        action["domain"] = [("team_id", "=", self.id)]
        action["context"] = {"search_default_open": 1, "default_team_id": self.id}
        return action
