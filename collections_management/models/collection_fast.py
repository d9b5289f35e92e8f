"""Fast paths of Collections around the ORM: every shortcut of the suite, in one place.

The dunning engine handles thousands of customers a run; a few ORM operations cost it most of
its time when done record by record. Each shortcut below does the same thing as the ORM call it
replaces, in fewer queries, and says what it skips and why that is safe. Each has a test that
compares its result with the plain ORM path on the same records
(``collections_management/tests/test_fast_paths.py``). Nothing else in the suite writes SQL to
change records, caches or computed fields: callers call these methods.

``_insert(model, vals_list)`` -- multi-row INSERT instead of ``create``
    Skips: ``create`` builds a draft record (``new``) for every monetary amount to find its
    currency, fills the cache and converts each value one record at a time. Here defaults are
    read once for the batch, each currency once, and the many2many links are one more INSERT.
    Kept as ``create`` does: model access and field access checked before, record rules
    (``check_access('create')``) and the Collections scope check after; defaults; monetary
    rounding in the record's currency; stored related fields read through the ORM once per
    distinct value; other stored computed fields computed by the ORM itself (marked to compute,
    then flushed); Python constraints; automation rules triggered
    on creation; caches invalidated. Only for the models listed in ``_INSERT_MODELS``: their
    ``create`` does nothing else (no ``mail.thread``, no tracking, no override besides the
    scope check); fields must be plain columns or many2many set commands, else ``ValueError``.

``_write_rows(records, values_by_id)`` -- one ``UPDATE ... FROM (VALUES ...)`` instead of a
``write`` per record (or per distinct value)
    Skips: the ORM's ``write`` of each record, e.g. on journal items the whole move's checks
    (about 7 ms an instalment) though only collections' own columns change.
    Kept: access rights (``check_access('write')``, field groups, the scope mixin's rules on
    system and manager fields) unless superuser; ``write_uid``/``write_date``; monetary amounts
    rounded in each record's currency; pending writes
    of these fields flushed first; the cache invalidated and dependent fields marked
    (``modified``) so stored computed fields are recomputed and others read again; automation
    rules watching these fields run with the same preconditions, old values and
    postconditions as after an ORM write (see base_automation's ``_register_hook``). Only for
    plain stored columns (no translation, no x2many, not computed); records that get the same
    fields share one UPDATE.

``_render_qweb_batch(template, records)`` -- one QWeb pass for many records
    Skips: the mail renderer compiles a template's QWeb body again for every record (about
    20 ms each). Here it is compiled once per language and rendered for all the records of
    that language in one pass, each output closed by a unique marker to split on.
    Kept: the template's evaluation context and post-processing (links made absolute), the
    language of each record. Renders as superuser, like the scheduler: templates are
    configuration of managers.

``_log_notes(model, bodies_by_record, values)`` -- one ``mail.message`` create for many notes
    Skips: ``message_post`` per record (followers, notifications, recipients computed one
    record at a time). Notes of the engine notify nobody: they are logs in the chatter, as
    ``mail.thread._message_log_batch`` makes them, but on any model and linked to the
    communication they tell about. Callers escape every inserted value (``bodies`` are Markup).
"""

import uuid

from lxml import html

from odoo import api, models
from odoo.fields import Command
from odoo.tools import SQL, float_repr

from odoo.addons.base_automation.models.base_automation import CREATE_TRIGGERS, WRITE_TRIGGERS

LOG_COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")
# Field types a fast INSERT or UPDATE writes as a plain column value.
PLAIN_TYPES = ("char", "text", "html", "selection", "integer", "float", "monetary", "boolean", "date", "datetime")


class CollectionFast(models.AbstractModel):
    _name = "collection.fast"
    _description = "Collections: fast paths around the ORM"

    # Models whose create is only the ORM's (plus the scope check and automation rules, both
    # replayed by _insert): a fast insert gives them what create gives.
    _INSERT_MODELS = ("collection.communication", "collection.run.decision")

    # ------------------------------------------------------------------
    # INSERT
    # ------------------------------------------------------------------

    @api.model
    def _insert(self, model, vals_list):
        """Create records of ``model`` (a recordset) from ``vals_list`` in one INSERT (plus one
        per many2many); returns them, as ``model.create(vals_list)`` would."""
        if not vals_list:
            return model.browse()
        if model._name not in self._INSERT_MODELS:
            raise ValueError(f"No fast insert for {model._name}")
        model = model.browse()
        model.check_access("create")
        fields_by_name = model._fields
        fnames = {fname for vals in vals_list for fname in vals}
        many2many = {}
        for fname in fnames:
            field = fields_by_name.get(fname)
            if field is None:
                raise ValueError(f"Invalid field {fname!r} in {model._name!r}")
            model._check_field_access(field, "write")
            if field.type == "many2many" and field.store:
                many2many[fname] = field
            elif not self._is_plain(field) or fname in LOG_COLUMNS or fname == "id":
                raise ValueError(f"Field {fname!r} of {model._name} is not handled by the fast insert")
        # Defaults, read once for the batch (the ORM reads them for each record).
        missing = [
            fname
            for fname, field in fields_by_name.items()
            if field.store and field.column_type and self._is_plain(field) and fname not in LOG_COLUMNS
            if any(fname not in vals for vals in vals_list)
        ]
        defaults = model.default_get(missing) if missing else {}
        columns = sorted(
            {fname for fname in fnames if fname not in many2many}
            | {fname for fname in defaults if fields_by_name[fname].column_type}
        )
        # Stored related fields whose first step is given (e.g. a level's stage) are read once
        # per distinct value and inserted with the row; other stored computed fields are
        # computed by the ORM after the INSERT.
        related = {
            fname: field
            for fname, field in fields_by_name.items()
            if field.store
            and field.related
            and field.column_type
            and fname not in fnames
            and all(field.related.split(".")[0] in {**defaults, **vals} for vals in vals_list)
        }
        columns += sorted(related)
        related_memo = {}

        def related_value(field, full):
            first = field.related.split(".")[0]
            key = (field.name, full.get(first))
            if key not in related_memo:
                related_memo[key] = field.convert_to_write(model.new({first: full.get(first)})[field.name], model)
            return related_memo[key]

        currency_of = self._currency_reader(model)
        now, uid = self.env.cr.now(), self.env.uid
        rows = []
        for vals in vals_list:
            full = {**defaults, **vals}
            full.update({fname: related_value(field, full) for fname, field in related.items()})
            row = [
                self._column_value(fields_by_name[fname], full.get(fname), full, currency_of, model)
                for fname in columns
            ]
            rows.append(SQL("(%s)", SQL(", ").join([*row, uid, now, uid, now])))
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s RETURNING id",
                SQL.identifier(model._table),
                SQL(", ").join(SQL.identifier(name) for name in [*columns, *LOG_COLUMNS]),
                SQL(", ").join(rows),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        records = model.browse(ids)
        for fname, field in many2many.items():
            pairs = []
            for record_id, vals in zip(ids, vals_list):
                pairs.extend(
                    SQL("(%s, %s)", record_id, target) for target in self._many2many_ids(field, vals.get(fname))
                )
            if pairs:
                self.env.cr.execute(
                    SQL(
                        "INSERT INTO %s (%s, %s) VALUES %s ON CONFLICT DO NOTHING",
                        SQL.identifier(field.relation),
                        SQL.identifier(field.column1),
                        SQL.identifier(field.column2),
                        SQL(", ").join(pairs),
                    )
                )
        # What create does after its INSERT: stored computed fields computed by the ORM,
        # dependents marked, constraints, record rules, scope, automation rules.
        for field in fields_by_name.values():
            if field.store and field.compute and field.name not in fnames and field.name not in related:
                self.env.add_to_compute(field, records)
        records.modified(list(fields_by_name), create=True)
        # The one2many of the records' many2one targets (e.g. a run's decisions) are read again.
        for fname in columns:
            inverses = model.pool.field_inverses[fields_by_name[fname]]
            if inverses:
                self.env[fields_by_name[fname].comodel_name].invalidate_model([inverse.name for inverse in inverses])
        records.flush_recordset()
        records._validate_fields(fnames)
        if model._check_company_auto:
            records._check_company()
        records.check_access("create")
        if hasattr(records, "_collection_check_scope") and not self.env.su:
            records._collection_check_scope("create")
        automations = self.env["base.automation"]._get_actions(records, CREATE_TRIGGERS)
        for automation in automations.with_context(old_values=None):
            automation._process(automation._filter_post(records.with_env(automation.env), feedback=True))
        return records

    @api.model
    def _is_plain(self, field):
        """A stored column written as is: not computed, not translated, not company dependent."""
        plain = field.type in PLAIN_TYPES or field.type == "many2one"
        return bool(
            plain
            and field.store
            and field.column_type
            and not field.compute
            and not field.translate
            and not field.company_dependent
        )

    @api.model
    def _many2many_ids(self, field, commands):
        """Ids linked by ``[Command.set(ids)]`` or ``[Command.link(id)]`` (what the engine uses)."""
        ids = []
        for command in commands or ():
            if command[0] == Command.SET:
                ids = list(command[2])
            elif command[0] == Command.LINK:
                ids.append(command[1])
            else:
                raise ValueError(f"Command {command[0]} on {field.name} is not handled by the fast insert")
        return list(dict.fromkeys(ids))

    @api.model
    def _currency_reader(self, model):
        """currency_of(field, vals): the currency a monetary value of a new record is rounded in,
        as ``Monetary.convert_to_column_insert`` finds it, each currency built once."""
        memo = {}

        def currency_of(field, vals):
            name = field.get_currency_field(model)
            currency_field = model._fields[name]
            if name in vals:
                key = (name, vals[name])
            elif currency_field.related and currency_field.related.split(".")[0] in vals:
                first = currency_field.related.split(".")[0]
                key = (first, vals[first])
            else:
                key = (None, None)
            if key not in memo:
                if key[0] == name:
                    memo[key] = model.new({name: key[1]})[name]
                elif key[0]:
                    memo[key] = model.new({key[0]: key[1]})[name]
                else:
                    memo[key] = model.env["res.currency"]
            return memo[key]

        return currency_of

    @api.model
    def _column_value(self, field, value, vals, currency_of, model):
        """The column value of ``value``, converted (and HTML sanitized) as the ORM does."""
        if field.type == "monetary":
            currency = currency_of(field, vals)
            value = float(value or 0.0)
            return float_repr(currency.round(value), currency.decimal_places) if currency else value
        if field.type == "selection" and value:
            allowed = {key for key, __ in field._description_selection(self.env)}
            if value not in allowed:
                raise ValueError(f"Wrong value for {field.model_name}.{field.name}: {value!r}")
        return field.convert_to_column(value, model)

    # ------------------------------------------------------------------
    # UPDATE
    # ------------------------------------------------------------------

    @api.model
    def _write_rows(self, records, values_by_id):
        """Write ``{id: {field: value}}`` on ``records`` (values may differ per record) in one
        ``UPDATE ... FROM (VALUES ...)``, as ``records.browse(id).write(values)`` for each."""
        values_by_id = {record_id: values for record_id, values in values_by_id.items() if values}
        if not values_by_id:
            return
        model = records.browse()
        fnames = sorted({fname for values in values_by_id.values() for fname in values})
        for fname in fnames:
            field = model._fields[fname]
            if not self._is_plain(field) or fname in LOG_COLUMNS:
                raise ValueError(f"Field {fname!r} of {model._name} is not handled by the fast write")
        records = model.browse(list(values_by_id))
        if not self.env.su:
            for fname in fnames:
                model._check_field_access(model._fields[fname], "write")
            if hasattr(model, "_collection_check_write_fields"):
                model._collection_check_write_fields(set(fnames))
            records.check_access("write")

        # Records that get the same fields share one UPDATE.
        groups = {}
        for record_id, values in values_by_id.items():
            groups.setdefault(tuple(sorted(values)), {})[record_id] = values

        def write():
            records.flush_recordset(fnames)
            relational = [fname for fname in fnames if model._fields[fname].type == "many2one"]
            if relational:
                records.modified(relational, before=True)
            for names, rows_by_id in groups.items():
                self._update_rows(model, names, rows_by_id)
            records.invalidate_recordset([*fnames, "write_uid", "write_date"])
            records.modified(fnames)

        self._run_write_rules(records, fnames, write)
        scoped = {*getattr(model, "_collection_manager_fields", ()), *getattr(model, "_collection_scope_fields", ())}
        if not self.env.su and scoped.intersection(fnames):
            records._collection_check_scope()

    @api.model
    def _update_rows(self, model, fnames, values_by_id):
        """One ``UPDATE ... FROM (VALUES ...)`` of the columns ``fnames`` (every row has them)."""
        columns = [SQL.identifier(fname) for fname in fnames]
        # Monetary amounts are rounded in each record's currency, as write does.
        records_sudo = model.browse(list(values_by_id)).sudo().with_context(prefetch_fields=False)
        rows = []
        for record_sudo in records_sudo:
            values = values_by_id[record_sudo.id]

            def currency_of(field, values, record_sudo=record_sudo):
                name = field.get_currency_field(model)
                return model.env["res.currency"].browse(values[name]) if name in values else record_sudo[name]

            row = [
                self._column_value(model._fields[fname], values[fname], values, currency_of, model) for fname in fnames
            ]
            rows.append(SQL("(%s, %s)", record_sudo.id, SQL(", ").join(SQL("%s", value) for value in row)))
        self.env.cr.execute(
            SQL(
                """UPDATE %(table)s
                      SET write_uid = %(uid)s, write_date = %(now)s, %(assignments)s
                     FROM (VALUES %(rows)s) AS "__fast"(id, %(columns)s)
                    WHERE %(table)s.id = "__fast".id""",
                table=SQL.identifier(model._table),
                uid=self.env.uid,
                now=self.env.cr.now(),
                assignments=SQL(", ").join(
                    SQL('%s = "__fast".%s::%s', column, column, SQL(model._fields[fname].column_type[1]))
                    for fname, column in zip(fnames, columns)
                ),
                rows=SQL(", ").join(rows),
                columns=SQL(", ").join(columns),
            )
        )

    @api.model
    def _run_write_rules(self, records, fnames, write):
        """Call ``write()``, which changes the fields ``fnames`` of ``records`` without the ORM's
        ``write``, then run the automation rules an ORM write of these fields would have run:
        same preconditions, same old values, same postconditions (see ``_register_hook`` of
        base_automation). ``write`` must invalidate what it changed. Costs one search for the
        rules when there is none."""
        automations = self.env["base.automation"]._get_actions(records, WRITE_TRIGGERS)
        records = records.filtered("id")
        if not (automations and records):
            write()
            return
        records = records.with_env(automations.env)
        pre = {automation: automation._filter_pre(records) for automation in automations}
        old_values = {record.id: {fname: record[fname] for fname in fnames} for record in records}
        write()
        for automation in automations.with_context(old_values=old_values):
            matched, domain_post = automation._filter_post_export_domain(pre[automation], feedback=True)
            automation._process(matched, domain_post=domain_post)

    # ------------------------------------------------------------------
    # Rendering and chatter
    # ------------------------------------------------------------------

    @api.model
    def _render_qweb_batch(self, template, records, lang_of):
        """{record id: rendered HTML body} of the mail ``template`` for ``records``, each in the
        language ``lang_of(record)``."""
        marker = f"@@collection-{uuid.uuid4().hex}@@"
        bodies = {}
        for lang, same_lang in records.grouped(lang_of).items():
            template_lang = template.sudo().with_context(lang=lang)
            source = template_lang.body_html or ""
            wrapped = html.fragment_fromstring(
                f'<t t-foreach="collection_records" t-as="object">{source}{marker}</t>',
                create_parent="div",
            )
            variables = template_lang._render_eval_context()
            variables["collection_records"] = same_lang.with_context(lang=lang)
            output = str(self.env["ir.qweb"].sudo().with_context(lang=lang)._render(wrapped, variables))
            parts = output[5:-6].split(marker)
            rendered = {record.id: part for record, part in zip(same_lang, parts)}
            bodies.update(template_lang._render_template_postprocess(records._name, rendered))
        return bodies

    @api.model
    def _log_notes(self, documents, bodies, values_by_id=None):
        """One note per ``{id: Markup}`` of ``bodies`` in the chatter of the documents
        ``documents`` (``{id: record}``), in one create; ``values_by_id`` adds values to the
        message of each id (e.g. the communication it tells about). Notifies nobody."""
        if not bodies:
            return self.env["mail.message"]
        note = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        author = self.env.user.partner_id.id
        values_by_id = values_by_id or {}
        return (
            self.env["mail.message"]
            .sudo()
            .create(
                [
                    {
                        "model": documents[key]._name,
                        "res_id": documents[key].id,
                        "message_type": "notification",
                        "subtype_id": note,
                        "author_id": author,
                        "body": body,
                        "reply_to": False,
                        **values_by_id.get(key, {}),
                    }
                    for key, body in bodies.items()
                ]
            )
        )
