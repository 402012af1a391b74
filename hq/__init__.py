"""Head office: a reader of what the offices publish (docs/scale.md). Its broker takes each
office's bridge under that office's own prefix; its ingest writes their events into one
PostgreSQL database with the same projection the office hub uses, so every report of an
office reads the same at head office."""
