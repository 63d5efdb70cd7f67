package dev.orch.client;

import java.util.Set;

/** An object this process hosts, with what its type exposes (checked on direct calls; the server checks its own). */
final class HostedInstance {
    final String typeid;
    final HostedObject object;
    final Set<String> exposed;

    HostedInstance(String typeid, HostedObject object, Set<String> exposed) {
        this.typeid = typeid;
        this.object = object;
        this.exposed = exposed;
    }
}
