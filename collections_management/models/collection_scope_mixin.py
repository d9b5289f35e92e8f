from odoo import _, api, fields, models
from odoo.exceptions import AccessError

MANAGER_GROUP = "collections_management.collections_management_group_manager"


class CollectionScopeMixin(models.AbstractModel):
    """Fields that move a record into someone else's scope are checked on write.

    Record rules are evaluated on a record *before* it is written, not on the values it gets;
    a collector who can write a communication of their customer could otherwise re-point it to
    any other customer. Models of collections list the fields that decide whose a record is:

    - ``_collection_system_fields``: only model methods (``sudo``) change them, e.g. the
      customer and instalments of a communication;
    - ``_collection_manager_fields``: collections managers may change them, collectors never;
    - ``_collection_scope_fields``: anyone with write access may change them, but the record must
      stay within the user's record rules and, for a collector, belong to a customer of one of
      their cases (in the record's company).

    The same scope check runs when a user (not a model method) creates a record.
    """

    _name = "collection.scope.mixin"
    _description = "Collections: whose a record is, checked on write"

    collection_user_is_manager = fields.Boolean(
        compute="_compute_collection_user_is_manager",
        help="Technical: the current user may change the fields only managers change.",
    )

    _collection_system_fields = ()
    _collection_manager_fields = ()
    _collection_scope_fields = ()

    def _compute_collection_user_is_manager(self):
        self.collection_user_is_manager = self.env.su or self.env.user.has_group(MANAGER_GROUP)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        if not self.env.su:
            records._collection_check_scope("create")
        return records

    def write(self, vals):
        if self.env.su:
            return super().write(vals)
        changed = set(vals)
        self._collection_check_write_fields(changed)
        result = super().write(vals)
        if changed.intersection({*self._collection_manager_fields, *self._collection_scope_fields}):
            self._collection_check_scope()
        return result

    def _collection_check_write_fields(self, changed):
        """Refuse a change of ``changed`` (field names) by a user (not a model method) when they
        are system fields, or manager fields and the user is no collections manager."""
        if self.env.su:
            return
        locked = changed.intersection(self._collection_system_fields)
        if locked:
            raise AccessError(
                _(
                    "%(fields)s of %(model)s are set by Collections itself and cannot be changed by hand.",
                    fields=", ".join(self._fields[name]._description_string(self.env) for name in sorted(locked)),
                    model=self._description,
                )
            )
        managed = changed.intersection(self._collection_manager_fields)
        if managed and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                _(
                    "Only a collections manager can change %(fields)s of %(model)s.",
                    fields=", ".join(self._fields[name]._description_string(self.env) for name in sorted(managed)),
                    model=self._description,
                )
            )

    def _collection_partner(self):
        """The customer whose scope this record is in (commercial entity)."""
        self.ensure_one()
        return self.partner_id.commercial_partner_id

    def _collection_check_scope(self, operation="write"):
        """Refuse records that the current user could not have reached: outside their record
        rules (with the values just written) or, for a collector, about a customer of none of their
        cases. Which instalments and case a record may cover is a business rule of its own model
        (e.g. ``collection.promise._check_rules``), checked for everyone."""
        if not self or self.env.su:
            return
        outside = self - self._filtered_access(operation)
        if outside:
            raise AccessError(
                _(
                    "This change would move %(records)s outside what you may work on.",
                    records=", ".join(outside.sudo().mapped("display_name")),
                )
            )
        if self.env.user.has_group(MANAGER_GROUP):
            return
        pairs = {(record._collection_partner().id, record.company_id.id) for record in self.sudo()}
        cases = self.env["collection.case"].search([("partner_id", "in", [partner for partner, _company in pairs])])
        reachable = {(case.partner_id.id, case.company_id.id) for case in cases}
        if not pairs <= reachable:
            raise AccessError(_("You can only work on customers of your own cases and your team's cases."))
