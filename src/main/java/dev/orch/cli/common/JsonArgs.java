package dev.orch.cli.common;

import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import dev.orch.protocol.FrameCodec;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.List;

/**
 * Command-line values as JSON: each argument is parsed as JSON, and a bare word that is not
 * valid JSON is taken as a string, so {@code orch call s set hello} works without quotes.
 */
public final class JsonArgs {
    private JsonArgs() {
    }

    public static Object parse(String text) {
        try {
            return FrameCodec.parseValue(text);
        } catch (OrchException e) {
            // 1e999: valid JSON, but no double holds it.
            throw CliException.usage("number out of range: " + text);
        } catch (StreamConstraintsException e) {
            // Valid JSON beyond what the server takes (256 levels deep): "not valid JSON" would mislead.
            throw CliException.usage("JSON value exceeds a limit: " + e.getOriginalMessage());
        } catch (IOException e) {
            String t = text.trim();
            if (t.startsWith("{") || t.startsWith("[") || t.startsWith("\"")) {
                throw CliException.usage("not valid JSON: " + text);
            }
            return text;
        }
    }

    public static JsonArray array(List<String> args) {
        JsonArray a = new JsonArray();
        if (args != null) {
            args.forEach(s -> a.add(parse(s)));
        }
        return a;
    }

    /** {@code NAME=JSON} pairs as keyword arguments. */
    public static JsonObject kwargs(List<String> pairs) {
        JsonObject o = new JsonObject();
        if (pairs != null) {
            for (String p : pairs) {
                int eq = p.indexOf('=');
                if (eq <= 0) {
                    throw CliException.usage("keyword argument must be NAME=JSON: " + p);
                }
                String name = p.substring(0, eq);
                if (o.containsKey(name)) {
                    // As Python refuses f(a=1, a=2): the last one quietly winning hides a typo.
                    throw CliException.usage("keyword argument " + name + " given twice");
                }
                o.put(name, parse(p.substring(eq + 1)));
            }
        }
        return o;
    }

    /**
     * Compact JSON of a value, as {@code orch call} prints results and {@code -o json} prints rows.
     * A lone surrogate (half of an emoji, which a string may hold) is written as its {@code \\uXXXX}
     * escape: stdout is UTF-8, which has no bytes for it, and the encoder would print {@code ?}.
     */
    public static String encode(Object value) {
        return escapeLoneSurrogates(FrameCodec.toJson(value));
    }

    /**
     * {@code json} with each lone surrogate escaped. Only a string literal can hold one (JSON's
     * own syntax is ASCII), and there the escape means the same character.
     */
    static String escapeLoneSurrogates(String json) {
        StringBuilder out = null;
        int n = json.length();
        for (int i = 0; i < n; i++) {
            char c = json.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(json.charAt(i + 1))) {
                if (out != null) {
                    out.append(c).append(json.charAt(i + 1));
                }
                i++; // a pair: one character
                continue;
            }
            boolean lone = Character.isSurrogate(c);
            if (lone && out == null) {
                out = new StringBuilder(n + 16).append(json, 0, i);
            }
            if (lone) {
                out.append(String.format("\\u%04x", (int) c));
            } else if (out != null) {
                out.append(c);
            }
        }
        return out == null ? json : out.toString();
    }
}
