package dev.orch.cli;

import dev.orch.cli.common.JsonArgs;
import dev.orch.cli.common.Table;
import dev.orch.client.OrchClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import picocli.CommandLine.Command;

/** {@code orch objects}: the objects a server holds. */
@Command(name = "objects", mixinStandardHelpOptions = true, description = "List the objects the server holds.")
class ObjectsCommand extends ClientCommand {
    @Override
    protected void run(OrchClient c, PrintWriter out) {
        JsonArray objects = c.objects();
        if (output.json()) {
            out.println(JsonArgs.encode(objects));
            return;
        }
        Table t = new Table("ID", "NAME", "TYPEID", "REFS", "HOST");
        for (Object o : objects) {
            JsonObject ob = (JsonObject) o;
            t.row(ob.getString("id"), ob.getString("name"), ob.getString("typeid"), ob.getInteger("refs"), ob.getString("host"));
        }
        t.print(out);
    }
}
