package dev.orch.objects;

/** The list of built-in types; each new built-in type is added here. */
final class BuiltinTypes {
    private BuiltinTypes() {
    }

    static void registerAll(TypeRegistry r) {
        dev.orch.objects.builtin.CoreTypes.registerAll(r);
        dev.orch.objects.sync.SyncTypes.registerAll(r);
    }
}
