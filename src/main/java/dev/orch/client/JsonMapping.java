package dev.orch.client;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.AbstractDeserializer;
import com.fasterxml.jackson.databind.deser.DefaultDeserializationContext;
import com.fasterxml.jackson.databind.deser.impl.UnsupportedTypeDeserializer;
import com.fasterxml.jackson.databind.type.TypeFactory;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.lang.reflect.Type;

/**
 * Converts JSON values into Java types with Jackson, for typed proxies and hosted classes.
 * Nothing is coerced (see {@link StrictScalars}): a value the declared type does not take is a
 * {@link Mismatch}, never a silently different value. Fields a record or POJO does not have are
 * ignored, so a peer may add one. Java values go out as they are, written
 * into their frame by {@link dev.orch.protocol.JsonValues}, which refuses what would not arrive
 * as it was.
 */
final class JsonMapping {
    /** Vert.x's mapper (it writes JsonObject and JsonArray), without Jackson's coercions. */
    private static final ObjectMapper STRICT = strict(DatabindCodec.mapper().copy());

    private JsonMapping() {
    }

    /** A JSON value that a Java type does not take as it is. */
    static final class Mismatch extends IllegalArgumentException {
        Mismatch(String message, Throwable cause) {
            super(message, cause);
        }
    }

    @SuppressWarnings("deprecation") // configure(MapperFeature) is the way to change a copy
    private static ObjectMapper strict(ObjectMapper m) {
        m.registerModule(StrictScalars.module());
        // Optional<T>: null is Optional.empty(), anything else what T takes (strictly, as above).
        m.registerModule(new Jdk8Module());
        // For the types StrictScalars leaves to Jackson (BigDecimal, enums, Number, ...).
        m.configure(MapperFeature.ALLOW_COERCION_OF_SCALARS, false);
        m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
        m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
        m.enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS);
        // A peer that adds a field to what it sends must not break a record or POJO here
        // (Quarkus's own default); a missing or mistyped field still fails.
        m.disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        return m;
    }

    /** {@code json} as a {@code type}; throws {@link Mismatch} when the type does not take it. */
    static Object toJava(Object json, Type type) {
        if (type == void.class || type == Void.class) {
            return null;
        }
        if (type instanceof Class && boxed((Class<?>) type).isInstance(json)) {
            // Already what was asked for (Object, String, a JsonObject, an int as Integer).
            return json;
        }
        return convert(json, STRICT.constructType(type));
    }

    /** {@code json} as a {@code type} Jackson resolved (a type variable bound to its argument, say). */
    static Object toJava(Object json, JavaType type) {
        if (type.hasRawClass(void.class) || type.hasRawClass(Void.class)) {
            return null;
        }
        if (type.containedTypeCount() == 0 && boxed(type.getRawClass()).isInstance(json)) {
            return json;
        }
        return convert(json, type);
    }

    private static Object convert(Object json, JavaType type) {
        Object plain = json instanceof JsonObject ? ((JsonObject) json).getMap()
                : json instanceof JsonArray ? ((JsonArray) json).getList() : json;
        try {
            return STRICT.convertValue(plain, type);
        } catch (IllegalArgumentException e) {
            throw new Mismatch(describe(e), e);
        }
    }

    static TypeFactory types() {
        return STRICT.getTypeFactory();
    }

    /**
     * Why Jackson could make no value of {@code type} from JSON, or null if it could: an abstract
     * type it knows no implementation of (a {@code Runnable}), one it does not support, or one
     * whose definition it refuses. Only the type itself is looked at, not its fields or elements.
     */
    static String unconstructible(JavaType type) {
        if (type.hasRawClass(void.class) || type.hasRawClass(Void.class)) {
            return null;
        }
        try {
            DefaultDeserializationContext ctx = ((DefaultDeserializationContext) STRICT.getDeserializationContext())
                    .createInstance(STRICT.getDeserializationConfig(), null, null);
            JsonDeserializer<?> d = ctx.findRootValueDeserializer(type);
            if (d instanceof AbstractDeserializer) {
                return "it is abstract, and Jackson knows no implementation of it";
            }
            if (d instanceof UnsupportedTypeDeserializer) {
                return "Jackson does not support it";
            }
            return null;
        } catch (JsonMappingException e) {
            return e.getOriginalMessage();
        }
    }

    /** Jackson's message without its location, and where in the value the fault is. */
    private static String describe(IllegalArgumentException e) {
        if (!(e.getCause() instanceof JsonMappingException)) {
            return e.getMessage();
        }
        JsonMappingException m = (JsonMappingException) e.getCause();
        StringBuilder at = new StringBuilder();
        for (JsonMappingException.Reference r : m.getPath()) {
            if (r.getFieldName() != null) {
                at.append('.').append(r.getFieldName());
            } else if (r.getIndex() >= 0) {
                at.append('[').append(r.getIndex()).append(']');
            }
        }
        return m.getOriginalMessage() + (at.length() == 0 ? "" : " at " + at);
    }

    private static Class<?> boxed(Class<?> c) {
        if (!c.isPrimitive()) {
            return c;
        }
        if (c == int.class) {
            return Integer.class;
        }
        if (c == long.class) {
            return Long.class;
        }
        if (c == double.class) {
            return Double.class;
        }
        if (c == boolean.class) {
            return Boolean.class;
        }
        // float, short, byte and char: the JSON decoder never makes these, so Jackson converts.
        return Void.class;
    }
}
