def migrate(cr, version):
    """Before the unique index on (external_id, direction) is created: a message Meta delivered
    twice at the same moment may have been recorded twice. Keep the id on the first record only,
    or the index could not be created."""
    if not version:
        return
    cr.execute("""
        UPDATE collection_communication c
           SET external_id = NULL
          FROM (SELECT id, row_number() OVER (PARTITION BY external_id, direction ORDER BY id) AS rank
                  FROM collection_communication
                 WHERE external_id IS NOT NULL) d
         WHERE c.id = d.id AND d.rank > 1
    """)
