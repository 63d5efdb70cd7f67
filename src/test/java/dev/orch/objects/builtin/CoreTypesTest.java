package dev.orch.objects.builtin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.orch.objects.SharedType;
import dev.orch.objects.TypeRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CoreTypesTest {

    @Test
    void registeredInOrder() {
        TypeRegistry r = new TypeRegistry();
        CoreTypes.registerAll(r);
        List<String> ids = new ArrayList<>();
        for (SharedType t : r.all()) {
            ids.add(t.typeid());
        }
        assertEquals(List.of("dict", "list", "Value", "Array", "Namespace"), ids);
    }

    @Test
    void builtinRegistryIncludesCoreTypes() {
        TypeRegistry r = TypeRegistry.builtins();
        assertEquals(DictType.INSTANCE, r.get("dict"));
        assertEquals(NamespaceType.INSTANCE, r.get("Namespace"));
    }

    /** The exposed lists are the contract in PROTOCOL.md §5; keep code and document in step. */
    @Test
    void exposedMethodsMatchProtocolDoc() throws IOException {
        String doc = Files.readString(Path.of("src/docs/PROTOCOL.md"));
        for (SharedType t : List.of(DictType.INSTANCE, ListType.INSTANCE, ValueType.INSTANCE, ArrayType.INSTANCE,
                NamespaceType.INSTANCE)) {
            Matcher m = Pattern.compile("(?m)^\\| `" + t.typeid() + "` \\| [^|]* \\| ([^|]*) \\|").matcher(doc);
            assertTrue(m.find(), "no PROTOCOL.md row for " + t.typeid());
            List<String> documented = new ArrayList<>();
            for (String cell : Arrays.asList(m.group(1).split(","))) {
                documented.add(cell.trim().replace("`", ""));
            }
            assertEquals(documented, t.exposed(), t.typeid());
        }
    }
}
