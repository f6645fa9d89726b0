"""The write kernel below every context: the write transaction, change log, conflicts, audit, the
entity and mutation registry and wire shapes. It imports no context; the contexts import it."""
