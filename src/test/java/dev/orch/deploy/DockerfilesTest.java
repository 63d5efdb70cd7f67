package dev.orch.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Cheap text checks of native/Dockerfile, native/Dockerfile.jvm and .dockerignore. */
class DockerfilesTest {
    static final Path DIR = RenderedManifests.projectDir();

    static String read(String file) throws Exception {
        Path p = DIR.resolve(file);
        assertTrue(Files.isRegularFile(p), file + " exists");
        return Files.readString(p);
    }

    /** The JSON array of the last line starting with the instruction (ENTRYPOINT, CMD). */
    static List<?> execForm(String dockerfile, String instruction) throws Exception {
        String line = dockerfile.lines().filter(l -> l.startsWith(instruction + " ")).reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no " + instruction));
        return new ObjectMapper().readValue(line.substring(instruction.length()).trim(), List.class);
    }

    static void commonRuntime(String d, String name) throws Exception {
        assertTrue(execForm(d, "ENTRYPOINT").equals(ManifestCommands.IMAGE_ENTRYPOINT),
                name + ": ENTRYPOINT is tini -- /usr/local/bin/orch, what the manifests' translation assumes");
        assertTrue(execForm(d, "CMD").equals(List.of("server", "--listen", "0.0.0.0:55555")), name + ": CMD");
        String lastUser = d.lines().filter(l -> l.startsWith("USER ")).reduce((a, b) -> b).orElse("");
        assertTrue(lastUser.equals("USER 1001"), name + ": runs as uid 1001: " + lastUser);
        assertTrue(d.contains("EXPOSE 55555"), name + ": EXPOSE 55555");
        assertTrue(d.contains("ORCH_HOME=/var/lib/orch"), name + ": ORCH_HOME");
    }

    @Test
    void nativeImage() throws Exception {
        String d = read("native/Dockerfile");
        commonRuntime(d, "native/Dockerfile");
        assertTrue(d.contains("quay.io/quarkus/ubi9-quarkus-mandrel-builder-image:"), "Mandrel builder");
        assertTrue(d.contains("quay.io/quarkus/ubi9-quarkus-micro-image:2.0"), "micro runtime");
        assertTrue(d.contains("./mvnw -B package -Dnative -DskipTests"), "native Maven build");
        assertTrue(d.contains("/project/target/orch /usr/local/bin/orch"), "copies the native launcher path");
        assertTrue(d.contains("/usr/bin/setsid"), "setsid for orch's children");
        assertTrue(d.contains("COPY --from=tools /usr/bin/setpriv /usr/bin/setpriv"), "setpriv, so children die with orch");
        assertTrue(d.contains("COPY --from=tools /usr/bin/kill /usr/bin/kill"), "kill, to signal process groups");
        assertTrue(d.contains("libcap-ng.so.0"), "setpriv's library, which the micro image lacks");
        assertTrue(d.contains("RUN /usr/bin/setpriv --pdeathsig KILL --"), "setpriv run once in the runtime image");
        assertTrue(d.contains("/usr/local/bin/tini"), "tini");
    }

    @Test
    void jvmImage() throws Exception {
        String d = read("native/Dockerfile.jvm");
        commonRuntime(d, "native/Dockerfile.jvm");
        assertTrue(d.contains("target/quarkus-app/"), "copies the fast-jar");
        assertTrue(d.contains("target/orch /opt/orch/orch"), "launcher beside quarkus-app/");
        assertTrue(d.contains("17-jre"), "Java 17 runtime");
        assertTrue(d.contains("procps"), "kill(1), to signal process groups, is not in the Temurin base");
        assertTrue(d.contains("/usr/bin/kill -l"), "kill run once at build time");
    }

    @Test
    void dockerignoreKeepsWhatTheBuildsNeed() throws Exception {
        List<String> lines = read(".dockerignore").lines().map(String::trim).toList();
        for (String needed : List.of("!pom.xml", "!mvnw", "!.mvn/", "!src/", "!target/orch", "!target/quarkus-app/")) {
            assertTrue(lines.contains(needed), ".dockerignore lets " + needed.substring(1) + " through");
        }
    }

    @Test
    void readmeAndDeployDocExist() throws Exception {
        assertTrue(read("native/README.md").contains("docker build -f native/Dockerfile"));
        assertTrue(read("src/docs/DEPLOY.md").contains("kubectl apply -k k8s/"));
    }
}
