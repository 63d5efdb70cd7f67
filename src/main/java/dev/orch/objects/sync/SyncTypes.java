package dev.orch.objects.sync;

import dev.orch.objects.Args;
import dev.orch.objects.ObjectContext;
import dev.orch.objects.SharedObject;
import dev.orch.objects.SharedType;
import dev.orch.objects.TypeRegistry;
import dev.orch.protocol.OrchException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** The synchronization types (Queue, Lock, Event…); see {@code src/docs/SYNC.md}. */
public final class SyncTypes {
    private static final List<String> QUEUE = methods(
            "put", "get", "put_nowait", "get_nowait", "qsize", "empty", "full", "task_done", "join");
    private static final List<String> ACQUIRER = methods("acquire", "release");

    private SyncTypes() {
    }

    /** Registers Queue, JoinableQueue, Lock, RLock, Semaphore, BoundedSemaphore, Event, Condition, Barrier. */
    public static void registerAll(TypeRegistry r) {
        r.register(new SyncType(QueueObject.TYPEID, QUEUE, params("maxsize"),
                (c, a) -> new QueueObject(c, a.getLong(0, 0))));
        r.register(new SyncType(JoinableQueueObject.TYPEID, QUEUE, params("maxsize"),
                (c, a) -> new JoinableQueueObject(c, a.getLong(0, 0))));
        r.register(new SyncType(LockObject.TYPEID, ACQUIRER, params(), (c, a) -> new LockObject(c)));
        r.register(new SyncType(RLockObject.TYPEID, ACQUIRER, params(), (c, a) -> new RLockObject(c)));
        r.register(new SyncType(SemaphoreObject.TYPEID, ACQUIRER, params("value"),
                (c, a) -> new SemaphoreObject(c, a.getLong(0, 1))));
        r.register(new SyncType(BoundedSemaphoreObject.TYPEID, ACQUIRER, params("value"),
                (c, a) -> new BoundedSemaphoreObject(c, a.getLong(0, 1))));
        r.register(new SyncType(EventObject.TYPEID, methods("set", "clear", "is_set", "wait"), params(),
                (c, a) -> new EventObject(c)));
        r.register(new SyncType(ConditionObject.TYPEID, methods("acquire", "release", "wait", "notify", "notify_all"),
                params("lock"), SyncTypes::condition));
        r.register(new SyncType(BarrierObject.TYPEID, methods("wait", "reset", "abort", "parties", "n_waiting", "broken"),
                params("parties", "timeout"), (c, a) -> new BarrierObject(c, a.getLong(0), a.getSeconds(1))));
    }

    private static SharedObject condition(ObjectContext context, Args a) {
        if (a.get(0, null) != null) {
            throw OrchException.raised("TypeError",
                    "Condition(lock=...) is not supported: a Condition always uses its own internal RLock in v1");
        }
        return new ConditionObject(context);
    }

    /** Builds an instance from bound constructor arguments. */
    private interface Factory {
        SharedObject create(ObjectContext context, Args args);
    }

    /**
     * A type's exposed methods, then {@code __repr__}, which every sync type answers with its
     * state, as Python's manager server answers it for every object (a proxy's {@code str()}).
     */
    private static List<String> methods(String... names) {
        List<String> all = new ArrayList<>(List.of(names));
        all.add("__repr__");
        return List.copyOf(all);
    }

    /** Constructor parameter names, as Python's. */
    private static String[] params(String... names) {
        return names;
    }

    private record SyncType(String typeid, List<String> exposed, String[] params, Factory factory)
            implements SharedType {
        @Override
        public SharedObject create(ObjectContext context, JsonArray args, JsonObject kwargs) {
            return factory.create(context, Args.bind(typeid, args, kwargs, params));
        }
    }
}
