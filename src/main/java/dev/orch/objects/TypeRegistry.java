package dev.orch.objects;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The object types the server implements itself. Types are registered explicitly (no class
 * loading by name) so the set is fixed at build time, as a native image needs.
 */
public final class TypeRegistry {
    private final Map<String, SharedType> types = new LinkedHashMap<>();

    public TypeRegistry register(SharedType type) {
        if (types.putIfAbsent(type.typeid(), type) != null) {
            throw new IllegalArgumentException("type registered twice: " + type.typeid());
        }
        return this;
    }

    /** The type, or null. */
    public SharedType get(String typeid) {
        return types.get(typeid);
    }

    public Collection<SharedType> all() {
        return Collections.unmodifiableCollection(types.values());
    }

    /** A registry holding every built-in type. */
    public static TypeRegistry builtins() {
        TypeRegistry r = new TypeRegistry();
        BuiltinTypes.registerAll(r);
        return r;
    }
}
