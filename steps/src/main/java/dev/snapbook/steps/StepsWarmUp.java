package dev.snapbook.steps;

import dev.snapbook.engine.spi.WarmUp;
import dev.snapbook.steps.xml.SafeXml;

/**
 * Loads what the first libvirt call and the first domain XML will need: the libvirt C library through JNA
 * ({@code virGetVersion} needs no connection and reads nothing of the host's domains), the XML parser, and
 * Commons Exec's classes. Connecting stays with the run, to the URI it was given.
 */
public final class StepsWarmUp implements WarmUp {

    @Override
    public void warmUp() throws Exception {
        org.libvirt.Library.getVersion();
        SafeXml.parse("<domain><devices><disk><source file='/warm/up'/></disk></devices></domain>", "warm-up");
        org.apache.commons.exec.DefaultExecutor.builder().get();
        new org.apache.commons.exec.CommandLine("true").addArgument("warm-up", false);
    }
}
