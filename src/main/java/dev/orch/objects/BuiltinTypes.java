package dev.orch.objects;

/** The list of built-in types; each new built-in type is added here. */
final class BuiltinTypes {
    private BuiltinTypes() {
    }

    static void registerAll(TypeRegistry r) {
        // Filled in as the built-in types land: dict, list, Value, Namespace, then the sync types.
        dev.orch.objects.sync.SyncTypes.registerAll(r);
    }
}
