package dev.snapbook.steps.libvirt;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a failed system call on the host means for the operator: the hint for a {@code VIR_ERR_SYSTEM_ERROR}
 * (libvirt's {@code virReportSystemError}, which puts the call's {@code errno} into the error's {@code int1})
 * or for a QEMU error text that ends in {@code strerror}'s words. The file comes from the message, where
 * libvirt and QEMU quote it ({@code failed to create image file '/x/o.qcow2': No such file or directory}).
 */
final class SystemError {

    // errno values of Linux, the only host libvirt's QEMU driver runs on
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EACCES = 13;
    static final int ENOSPC = 28;
    static final int EROFS = 30;
    static final int EDQUOT = 122;

    private static final Pattern QUOTED_PATH = Pattern.compile("'(/[^']*)'");

    private SystemError() {
    }

    /** The first absolute path quoted in {@code message}, or null when it names none. */
    static String file(String message) {
        if (message == null) {
            return null;
        }
        Matcher m = QUOTED_PATH.matcher(message);
        return m.find() ? m.group(1) : null;
    }

    /**
     * The errno that {@code message} ends with, read from {@code strerror}'s words, for errors that carry no
     * number (QEMU's block-job error); 0 when none is recognised.
     */
    static int errnoOf(String message) {
        if (message == null) {
            return 0;
        }
        if (message.contains("No such file or directory")) {
            return ENOENT;
        }
        if (message.contains("No space left on device")) {
            return ENOSPC;
        }
        if (message.contains("Permission denied")) {
            return EACCES;
        }
        if (message.contains("Operation not permitted")) {
            return EPERM;
        }
        if (message.contains("Read-only file system")) {
            return EROFS;
        }
        if (message.contains("Disk quota exceeded")) {
            return EDQUOT;
        }
        return 0;
    }

    /** The hint for a failed system call with {@code errno} (0: read it from the message). */
    static String hint(int errno, String message) {
        int e = errno != 0 ? errno : errnoOf(message);
        String file = file(message);
        String it = file == null ? "the file named above" : "'" + file + "'";
        return switch (e) {
            case ENOENT -> file == null ? "a file or directory named above does not exist; create it or fix the path"
                    : "'" + file + "' or its directory does not exist; create the directory or fix the path"
                    + " (ls -ld " + parent(file) + ")";
            case ENOSPC, EDQUOT -> "the file system holding " + it + " is full; free space there (df -h "
                    + (file == null ? "" : parent(file)) + ")";
            case EACCES, EPERM -> "libvirt or QEMU may not access " + it + "; check its owner, mode and security"
                    + " label (ls -lZ " + (file == null ? "" : file) + "); qemu:///system runs QEMU as libvirt-qemu";
            case EROFS -> it + " is on a read-only file system";
            default -> "a system call failed on the libvirt host; see libvirtd's log";
        };
    }

    private static String parent(String file) {
        int slash = file.lastIndexOf('/');
        return slash <= 0 ? "/" : file.substring(0, slash);
    }
}
