"""The write kernel below every context: the actor, the write transaction, change log, conflicts,
audit, the entity and mutation registry, the contexts' scope rules and wire shapes. It imports no
context; the contexts import it."""
