package dev.orch.server;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.ChannelInputShutdownEvent;

/**
 * Passes the end of a client's input (it shut down its write side, or its process died) on to
 * Vert.x's socket as an empty read, in line with the bytes read before it. Vert.x hands reads to
 * its data handler in order, holding them while the socket is paused, but would hand the
 * shutdown event on at once, ahead of requests still held. Netty never passes an empty read on,
 * so the empty buffer cannot be mistaken for data.
 */
final class EndOfInput extends ChannelInboundHandlerAdapter {
    private EndOfInput() {
    }

    /**
     * Keeps the channel open when its input ends ({@link ChannelOption#ALLOW_HALF_CLOSURE}) and
     * marks the end in its reads, just before the handler of {@code vertxHandler}'s context.
     */
    static void install(ChannelHandlerContext vertxHandler) {
        vertxHandler.channel().config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        // One per channel: sharing one would rest on Netty reading @Sharable reflectively.
        vertxHandler.pipeline().addBefore(vertxHandler.name(), "orch.endOfInput", new EndOfInput());
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof ChannelInputShutdownEvent) {
            ctx.fireChannelRead(Unpooled.EMPTY_BUFFER);
            // As every read ends: Vert.x flushes what it held back while reading.
            ctx.fireChannelReadComplete();
        }
        super.userEventTriggered(ctx, evt);
    }
}
