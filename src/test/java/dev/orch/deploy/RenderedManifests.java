package dev.orch.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The documents {@code kubectl kustomize k8s/} renders, parsed strictly into the fabric8 model. */
public final class RenderedManifests {
    /** Kinds the k8s/ set may contain, with their model classes. */
    static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "apps/v1/Deployment", Deployment.class,
            "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

    private static final ObjectMapper STRICT = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    public final List<HasMetadata> resources;

    private RenderedManifests(List<HasMetadata> resources) {
        this.resources = List.copyOf(resources);
    }

    /** The repository root: surefire and failsafe run in the module's base directory. */
    public static Path projectDir() {
        return Path.of(System.getProperty("user.dir")).toAbsolutePath();
    }

    /** kubectl from PATH, if there is one. */
    public static Optional<Path> kubectl() {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir.isEmpty() ? "." : dir, "kubectl");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    /** Runs {@code kubectl kustomize DIR} and returns its standard output. */
    public static String kustomize(Path kubectl, Path dir) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(kubectl.toString(), "kustomize", dir.toString())
                .redirectError(ProcessBuilder.Redirect.PIPE)
                .start();
        byte[] out;
        byte[] err;
        try (InputStream o = p.getInputStream(); InputStream e = p.getErrorStream()) {
            // The rendered set is small; read stderr after stdout is drained.
            out = o.readAllBytes();
            err = e.readAllBytes();
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("kubectl kustomize " + dir + " did not finish in 60 s");
        }
        if (p.exitValue() != 0) {
            throw new IOException("kubectl kustomize " + dir + " exited " + p.exitValue() + ": "
                    + new String(err, StandardCharsets.UTF_8));
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /** Renders k8s/ of this repository; callers skip when kubectl is absent. */
    public static RenderedManifests render(Path kubectl) throws IOException, InterruptedException {
        return parse(kustomize(kubectl, projectDir().resolve("k8s")));
    }

    /**
     * Renders k8s/ with the k8s/tls component, through an overlay written under target/ (kustomize
     * takes only relative paths to other kustomizations), as a user's overlay would use it.
     */
    public static RenderedManifests renderWithTls(Path kubectl) throws IOException, InterruptedException {
        return renderWith(kubectl, "tls");
    }

    /** Renders k8s/ with the component k8s/NAME, the same way as {@link #renderWithTls}. */
    public static RenderedManifests renderWith(Path kubectl, String component) throws IOException, InterruptedException {
        Path overlay = projectDir().resolve("target").resolve("k8s-" + component + "-overlay");
        Files.createDirectories(overlay);
        Files.writeString(overlay.resolve("kustomization.yaml"),
                "resources:\n  - ../../k8s\ncomponents:\n  - ../../k8s/" + component + "\n");
        return parse(kustomize(kubectl, overlay));
    }

    /**
     * Parses a multi-document YAML stream. Unknown kinds, unknown fields (also those the fabric8
     * model would keep in additionalProperties) and wrongly typed values fail.
     */
    public static RenderedManifests parse(String yaml) throws IOException {
        YAMLMapper yamlMapper = new YAMLMapper();
        List<HasMetadata> out = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(yaml)) {
            var it = yamlMapper.readValues(parser, JsonNode.class);
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc == null || doc.isNull() || doc.isMissingNode()) {
                    continue;
                }
                String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                Class<? extends HasMetadata> type = KINDS.get(key);
                if (type == null) {
                    throw new IllegalArgumentException("unexpected resource kind " + key + " in the rendered set");
                }
                HasMetadata r = STRICT.treeToValue(doc, type);
                List<String> unknown = new ArrayList<>();
                unknownFields(r, key + " " + r.getMetadata().getName(), unknown, 0);
                if (!unknown.isEmpty()) {
                    throw new IllegalArgumentException("unknown fields: " + unknown);
                }
                out.add(r);
            }
        }
        return new RenderedManifests(out);
    }

    /**
     * Walks a fabric8 model object and collects every non-empty additionalProperties map: the
     * model classes accept any field through a JSON any-setter, so FAIL_ON_UNKNOWN_PROPERTIES
     * alone lets typos such as {@code readinesProbe} through.
     */
    static void unknownFields(Object o, String path, List<String> out, int depth) {
        if (o == null || depth > 64) {
            return;
        }
        if (o instanceof Collection<?> c) {
            int i = 0;
            for (Object e : c) {
                unknownFields(e, path + "[" + i++ + "]", out, depth + 1);
            }
            return;
        }
        if (o instanceof Map<?, ?> m) {
            for (var e : m.entrySet()) {
                unknownFields(e.getValue(), path + "[" + e.getKey() + "]", out, depth + 1);
            }
            return;
        }
        if (!o.getClass().getName().startsWith("io.fabric8.")) {
            return;
        }
        for (Method m : o.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers())
                    || !m.getName().startsWith("get") || m.getName().equals("getClass")) {
                continue;
            }
            Class<?> rt = m.getReturnType();
            boolean additional = m.getName().equals("getAdditionalProperties");
            if (!additional && (rt.isPrimitive() || rt == String.class || rt.isEnum()
                    || Number.class.isAssignableFrom(rt) || rt == Boolean.class)) {
                continue;
            }
            Object v;
            try {
                v = m.invoke(o);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue; // a convenience getter that does not apply to this object
            }
            if (additional) {
                if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
                    out.add(path + ": " + extra.keySet());
                }
            } else {
                String name = Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
                unknownFields(v, path + "." + name, out, depth + 1);
            }
        }
    }

    public <T extends HasMetadata> List<T> all(Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    public <T extends HasMetadata> T get(Class<T> type, String name) {
        return all(type).stream().filter(r -> name.equals(r.getMetadata().getName())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " named " + name
                        + " in the rendered set"));
    }
}
