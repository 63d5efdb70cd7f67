package dev.orch.client;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.DatabindCodec;
import java.lang.reflect.Type;

/** Converts JSON values to and from Java types with Jackson, for typed proxies and hosted classes. */
final class JsonMapping {
    private JsonMapping() {
    }

    private static ObjectMapper mapper() {
        return DatabindCodec.mapper();
    }

    static Object toJava(Object json, Type type) {
        if (type == void.class || type == Void.class) {
            return null;
        }
        if (type == Object.class) {
            return json;
        }
        if (type == JsonObject.class || type == JsonArray.class) {
            return json;
        }
        Object plain = json instanceof JsonObject ? ((JsonObject) json).getMap()
                : json instanceof JsonArray ? ((JsonArray) json).getList() : json;
        JavaType jt = mapper().getTypeFactory().constructType(type);
        return mapper().convertValue(plain, jt);
    }

    static Object toJson(Object value) {
        if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean
                || value instanceof JsonObject || value instanceof JsonArray) {
            return value;
        }
        Object plain = mapper().convertValue(value, Object.class);
        if (plain instanceof java.util.Map) {
            return new JsonObject(castMap(plain));
        }
        if (plain instanceof java.util.List) {
            return new JsonArray((java.util.List<?>) plain);
        }
        return plain;
    }

    @SuppressWarnings("unchecked")
    private static java.util.Map<String, Object> castMap(Object o) {
        return (java.util.Map<String, Object>) o;
    }
}
