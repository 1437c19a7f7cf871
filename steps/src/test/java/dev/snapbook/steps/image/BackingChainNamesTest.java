package dev.snapbook.steps.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** File names from backing chains as playbooks pass them on: no {@code ..}, the same file. */
class BackingChainNamesTest {

    @TempDir
    Path dir;

    @Test
    void aNameQemuJoinedAcrossDirectoriesIsGivenAsTheFileItReaches() throws IOException {
        Path vm = Files.createDirectory(dir.resolve("vm é"));
        Path base = Files.createFile(vm.resolve("base.img"));
        Files.createDirectory(dir.resolve("else"));
        String joined = dir.resolve("else") + "/../vm é/base.img";
        assertEquals(base.toRealPath().toString(), BackingChain.plain(joined));
        assertEquals(List.of(base.toRealPath().toString()), BackingChain.plain(List.of(joined)));
    }

    @Test
    void aSymbolicLinkBeforeDotDotIsFollowedAsTheKernelDoes() throws IOException {
        Path target = Files.createDirectories(dir.resolve("real/inner"));
        Path base = Files.createFile(dir.resolve("real/base.img"));
        Files.createSymbolicLink(dir.resolve("link"), target);
        // lexically link/../base.img would be DIR/base.img, which does not exist; the kernel reaches real/base.img
        assertEquals(base.toRealPath().toString(), BackingChain.plain(dir.resolve("link") + "/../base.img"));
    }

    @Test
    void aPlainNameIsKeptAsItIsAndNullStaysNull() {
        assertEquals("/var/lib/x/vda.qcow2", BackingChain.plain("/var/lib/x/vda.qcow2"));
        assertEquals("/var/lib/x/a..b.qcow2", BackingChain.plain("/var/lib/x/a..b.qcow2"));
        assertNull(BackingChain.plain((String) null));
    }
}
