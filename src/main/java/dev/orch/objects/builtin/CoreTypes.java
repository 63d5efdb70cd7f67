package dev.orch.objects.builtin;

import dev.orch.objects.TypeRegistry;

/** Registers the core data types: dict, list, Value, Array, Namespace. */
public final class CoreTypes {
    private CoreTypes() {
    }

    public static void registerAll(TypeRegistry r) {
        r.register(DictType.INSTANCE);
        r.register(ListType.INSTANCE);
        r.register(ValueType.INSTANCE);
        r.register(ArrayType.INSTANCE);
        r.register(NamespaceType.INSTANCE);
    }
}
