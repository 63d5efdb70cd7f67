package dev.orch.deploy;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a container of the rendered manifests into a local command line, exactly as Kubernetes
 * would run it, except for what only exists in a cluster:
 * <ul>
 * <li>no {@code command} means the image's ENTRYPOINT ({@link #IMAGE_ENTRYPOINT}); everything up
 * to the orch binary (tini) is replaced by the local launcher {@code target/orch};</li>
 * <li>{@code $(VAR)} references in env, command and args are expanded with Kubernetes' rules;
 * downward-API {@code metadata.name}/{@code metadata.namespace} take test values;</li>
 * <li>each volume mount becomes a directory under a local root: Secret items are decoded and
 * written there, emptyDirs created; paths under a mount point are rewritten to it;</li>
 * <li>the caller's address map replaces Service and listen addresses ({@code orch-server:55555}
 * → {@code 127.0.0.1:PORT}).</li>
 * </ul>
 */
public final class ManifestCommands {
    /** The images' ENTRYPOINT (native/Dockerfile and native/Dockerfile.jvm). */
    public static final List<String> IMAGE_ENTRYPOINT = List.of("/usr/local/bin/tini", "--", "/usr/local/bin/orch");
    /** The orch binary inside the images. */
    public static final String IMAGE_BINARY = "/usr/local/bin/orch";

    /** Test stand-ins for what the cluster provides. */
    public record Options(Path launcher, Path root, String podName, String namespace, Map<String, String> addresses) {
    }

    /** A local process: its command line and the environment the container spec defines. */
    public record LocalCommand(List<String> command, Map<String, String> env) {
    }

    private ManifestCommands() {
    }

    /** The container's own process: command (or the image's ENTRYPOINT) and args. */
    public static LocalCommand container(PodSpec pod, String containerName, Map<String, Secret> secrets, Options o)
            throws IOException {
        Container c = container(pod, containerName);
        List<String> argv = new ArrayList<>(c.getCommand() == null || c.getCommand().isEmpty()
                ? IMAGE_ENTRYPOINT : c.getCommand());
        if (c.getArgs() != null) {
            argv.addAll(c.getArgs());
        }
        return translate(pod, c, argv, secrets, o);
    }

    /** An exec probe's command, run in the container's environment. */
    public static LocalCommand exec(PodSpec pod, String containerName, List<String> command,
            Map<String, Secret> secrets, Options o) throws IOException {
        return translate(pod, container(pod, containerName), new ArrayList<>(command), secrets, o);
    }

    static Container container(PodSpec pod, String name) {
        return pod.getContainers().stream().filter(c -> name.equals(c.getName())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no container " + name));
    }

    private static LocalCommand translate(PodSpec pod, Container c, List<String> argv, Map<String, Secret> secrets,
            Options o) throws IOException {
        Map<String, Path> mounts = materializeVolumes(pod, c, secrets, o.root());
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvVar e : c.getEnv() == null ? List.<EnvVar>of() : c.getEnv()) {
            String value;
            if (e.getValueFrom() != null) {
                var from = e.getValueFrom();
                if (from.getFieldRef() == null) {
                    throw new IllegalArgumentException("env " + e.getName()
                            + ": only downward-API fieldRef is supported (secrets go in files)");
                }
                value = switch (from.getFieldRef().getFieldPath()) {
                    case "metadata.name" -> o.podName();
                    case "metadata.namespace" -> o.namespace();
                    default -> throw new IllegalArgumentException("env " + e.getName() + ": unsupported fieldPath "
                            + from.getFieldRef().getFieldPath());
                };
            } else {
                value = expand(e.getValue() == null ? "" : e.getValue(), env);
            }
            env.put(e.getName(), localize(value, mounts, Map.of()));
        }
        List<String> expanded = argv.stream().map(a -> expand(a, env)).toList();
        int binary = expanded.indexOf(IMAGE_BINARY);
        if (binary < 0) {
            throw new IllegalArgumentException("container " + c.getName() + " does not run " + IMAGE_BINARY + ": "
                    + expanded);
        }
        List<String> command = new ArrayList<>();
        command.add(o.launcher().toString());
        for (String a : expanded.subList(binary + 1, expanded.size())) {
            command.add(localize(a, mounts, o.addresses()));
        }
        return new LocalCommand(List.copyOf(command), Map.copyOf(env));
    }

    /** Creates a local directory for each mount; writes Secret items; returns mountPath → dir. */
    static Map<String, Path> materializeVolumes(PodSpec pod, Container c, Map<String, Secret> secrets, Path root)
            throws IOException {
        Map<String, Path> mounts = new LinkedHashMap<>();
        for (VolumeMount m : c.getVolumeMounts() == null ? List.<VolumeMount>of() : c.getVolumeMounts()) {
            Volume v = pod.getVolumes().stream().filter(x -> m.getName().equals(x.getName())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("volumeMount " + m.getName() + " has no volume"));
            Path dir = root.resolve(m.getMountPath().replaceFirst("^/+", ""));
            Files.createDirectories(dir);
            if (v.getSecret() != null) {
                Secret s = secrets.get(v.getSecret().getSecretName());
                if (s == null) {
                    throw new IllegalArgumentException("volume " + v.getName() + " refers to missing Secret "
                            + v.getSecret().getSecretName());
                }
                Map<String, byte[]> data = secretData(s);
                List<KeyToPath> items = v.getSecret().getItems();
                if (items == null || items.isEmpty()) {
                    items = data.keySet().stream().map(k -> new KeyToPath(k, null, k)).toList();
                }
                for (KeyToPath item : items) {
                    byte[] bytes = data.get(item.getKey());
                    if (bytes == null) {
                        throw new IllegalArgumentException("volume " + v.getName() + ": Secret "
                                + s.getMetadata().getName() + " has no key " + item.getKey());
                    }
                    Path f = dir.resolve(item.getPath());
                    Files.createDirectories(f.getParent());
                    Files.write(f, bytes);
                }
            } else if (v.getEmptyDir() == null) {
                throw new IllegalArgumentException("volume " + v.getName() + ": only secret and emptyDir are supported");
            }
            mounts.put(m.getMountPath(), dir);
        }
        return mounts;
    }

    /** A Secret's values: data is base64, stringData plain text and wins on conflicts (as in the API). */
    public static Map<String, byte[]> secretData(Secret s) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, Base64.getMimeDecoder().decode(v)));
        }
        if (s.getStringData() != null) {
            s.getStringData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    /** Rewrites an address (whole value or after {@code =}) and paths under a mount point. */
    static String localize(String value, Map<String, Path> mounts, Map<String, String> addresses) {
        for (var a : addresses.entrySet()) {
            if (value.equals(a.getKey()) || value.endsWith("=" + a.getKey())) {
                return value.substring(0, value.length() - a.getKey().length()) + a.getValue();
            }
        }
        // Longest mount point first, so /a/b wins over /a.
        var points = mounts.keySet().stream().sorted(Comparator.comparingInt(String::length).reversed()).toList();
        for (String mp : points) {
            String prefix = mp.endsWith("/") ? mp : mp + "/";
            if (value.equals(mp)) {
                return mounts.get(mp).toString();
            }
            if (value.startsWith(prefix)) {
                return mounts.get(mp).resolve(value.substring(prefix.length())).toString();
            }
        }
        return value;
    }

    /**
     * Kubernetes' variable expansion: {@code $(NAME)} becomes the value of an already defined
     * variable, {@code $$} becomes {@code $}, and an undefined reference stays as written.
     */
    public static String expand(String s, Map<String, String> vars) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            char ch = s.charAt(i);
            if (ch == '$' && i + 1 < s.length()) {
                char next = s.charAt(i + 1);
                if (next == '$') {
                    b.append('$');
                    i += 2;
                    continue;
                }
                if (next == '(') {
                    int close = s.indexOf(')', i + 2);
                    if (close > 0) {
                        String name = s.substring(i + 2, close);
                        String v = vars.get(name);
                        b.append(v != null ? v : s, v != null ? 0 : i, v != null ? v.length() : close + 1);
                        i = close + 1;
                        continue;
                    }
                }
            }
            b.append(ch);
            i++;
        }
        return b.toString();
    }
}
