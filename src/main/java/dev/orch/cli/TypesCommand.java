package dev.orch.cli;

import dev.orch.cli.common.JsonArgs;
import dev.orch.cli.common.Table;
import dev.orch.client.OrchClient;
import dev.orch.protocol.DirectOffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code orch types}: the types a server can create. */
@Command(name = "types", mixinStandardHelpOptions = true, description = "List the object types the server can create.")
class TypesCommand extends ClientCommand {
    @Override
    protected void run(OrchClient c, PrintWriter out) {
        JsonArray types = c.types();
        if (output.json()) {
            out.println(JsonArgs.encode(types));
            return;
        }
        boolean wide = output.wide();
        Table t = wide ? new Table("TYPEID", "HOST", "DIRECT", "METHODS") : new Table("TYPEID", "HOST", "METHODS");
        for (Object o : types) {
            JsonObject ty = (JsonObject) o;
            String methods = String.join(",", ty.getJsonArray("exposed").stream().map(String::valueOf).toArray(String[]::new));
            if (wide) {
                t.row(ty.getString("typeid"), ty.getString("host"), directColumn(ty), methods);
            } else {
                t.row(ty.getString("typeid"), ty.getString("host"), methods);
            }
        }
        t.print(out);
    }

    /** Where the type's worker takes direct calls, {@code tls://} first when over TLS; "-" for none. */
    private static String directColumn(JsonObject type) {
        DirectOffer offer = DirectOffer.fromDescription(type);
        return offer == null ? "-" : offer.toString();
    }
}
