package dev.snapbook.engine.journal;

import com.fasterxml.jackson.databind.JsonNode;
import dev.snapbook.engine.json.Json;
import dev.snapbook.engine.run.RunStatus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A run as its journal tells it: how it started, which main steps were started, applied, verified and
 * undone, and how it ended — or that it did not end (interrupted, or still running).
 *
 * @param status {@code completed}, {@code rolled back}, {@code failed}, {@code rollback incomplete},
 *               {@code running}, {@code interrupted}, {@code recovered (...)} for an interrupted run that
 *               {@code snapbook recover} rolled back or resumed, or {@code being recovered by run ID} while that
 *               recovery has not recorded its end (it runs, or it was itself interrupted)
 * @param recoveryRun the run that last started to recover this one ({@code run_recovering}), or null
 */
public record RunRecord(String runId, Path file, String started, String playbook, String status, JsonNode start,
                        List<StepRecord> steps, String recoveryRun) {

    /** The start of the status of a run whose recovery started and did not record its end. */
    public static final String BEING_RECOVERED = "being recovered by run ";

    /** The run this one rolls back ({@code snapbook recover --rollback}), or null. */
    public String rollbackOf() {
        return start.hasNonNull("rollback_of") ? start.path("rollback_of").asText() : null;
    }

    /** The run this one resumes ({@code snapbook recover --resume}), or null. */
    public String resumedFrom() {
        return start.hasNonNull("resumed_from") ? start.path("resumed_from").asText() : null;
    }

    /**
     * One main step of the run.
     *
     * @param applied  its apply returned (its effect exists)
     * @param verified true or false once verified, null when the run stopped before verifying it
     */
    public record StepRecord(int index, String type, String name, JsonNode params, JsonNode captured,
                             String reversibility, boolean applied, boolean changed, JsonNode data, Boolean verified,
                             boolean undone) {

        StepRecord with(boolean applied, boolean changed, JsonNode data, Boolean verified, boolean undone) {
            return new StepRecord(index, type, name, params, captured, reversibility, applied, changed, data, verified,
                    undone);
        }
    }

    /**
     * Reads one journal; a torn last line (the process died while writing it) is ignored. Entries of every
     * format version up to {@link Journal#FORMAT_VERSION} are read, those without a version included.
     *
     * @throws IOException when the file cannot be read, is not a journal, or is of a newer format
     */
    public static RunRecord read(Path file) throws IOException {
        List<JsonNode> events = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode entry;
            try {
                entry = Json.MAPPER.readTree(line);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                break;
            }
            // an entry without "v" predates the field and has the same format (version 0)
            int version = entry.path("v").asInt(0);
            if (version > Journal.FORMAT_VERSION) {
                throw new IOException(file + " was written by a newer snapbook (journal format " + version
                        + "; this one reads formats up to " + Journal.FORMAT_VERSION + ")");
            }
            events.add(entry);
        }
        if (events.isEmpty() || JournalEvent.of(events.get(0).path("event").asText()) != JournalEvent.RUN_STARTED) {
            throw new IOException(file + " is not a snapbook journal (no run_started entry)");
        }
        JsonNode start = events.get(0);
        Map<Integer, StepRecord> steps = new LinkedHashMap<>();
        String status = null;
        String undoing = null;
        String recovered = null;
        String recovering = null;
        for (JsonNode e : events) {
            JournalEvent event = JournalEvent.of(e.path("event").asText());
            if (event == null) {
                continue; // the format version is known, so this cannot be; an entry of no known kind says nothing
            }
            boolean main = e.path("section").asText("steps").equals("steps");
            int index = e.path("index").asInt(-1);
            switch (event) {
                case STEP_STARTED, STEP_RESTORED -> {
                    if (main) {
                        StepRecord r = new StepRecord(index, e.path("type").asText(), e.path("name").asText(),
                                e.path("params"), e.path("captured"), e.path("reversibility").asText(""), false, false,
                                null, null, false);
                        if (event == JournalEvent.STEP_RESTORED) {
                            r = r.with(true, e.path("changed").asBoolean(), e.path("data"), true, false);
                        }
                        steps.put(index, r);
                    }
                }
                case STEP_APPLIED -> {
                    if (main && steps.containsKey(index)) {
                        StepRecord r = steps.get(index);
                        steps.put(index, r.with(true, e.path("changed").asBoolean(), e.path("data"), null, false));
                    }
                }
                case STEP_VERIFIED -> {
                    if (main && steps.containsKey(index)) {
                        StepRecord r = steps.get(index);
                        steps.put(index, r.with(r.applied(), r.changed(), r.data(), e.path("passed").asBoolean(), false));
                    }
                }
                case UNDO_STARTED -> undoing = e.path("type").asText() + "|" + e.path("name").asText();
                case UNDO_FINISHED -> {
                    if (e.path("ok").asBoolean() && e.has("index")) {
                        // since undo entries carry the step: exactly that one
                        if (e.path("section").asText("steps").equals("steps") && steps.containsKey(index)) {
                            StepRecord r = steps.get(index);
                            steps.put(index, r.with(true, r.changed(), r.data(), r.verified(), true));
                        }
                    } else if (e.path("ok").asBoolean() && undoing != null) {
                        // the newest applied, not yet undone step of that type and name
                        List<Integer> keys = new ArrayList<>(steps.keySet());
                        for (int k = keys.size() - 1; k >= 0; k--) {
                            StepRecord r = steps.get(keys.get(k));
                            if (r.applied() && !r.undone() && undoing.equals(r.type() + "|" + r.name())) {
                                steps.put(keys.get(k), r.with(true, r.changed(), r.data(), r.verified(), true));
                                break;
                            }
                        }
                    }
                    undoing = null;
                }
                case RUN_RECOVERING -> recovering = e.path("by").asText();
                case RUN_RECOVERED -> recovered = "recovered (" + e.path("action").asText() + " by run "
                        + e.path("by").asText() + ": " + e.path("status").asText().replace('_', ' ') + ")";
                case RUN_FINISHED -> {
                    RunStatus finished = RunStatus.ofWire(e.path("status").asText());
                    status = finished == null ? "failed" : switch (finished) {
                        case STOPPED -> "interrupted";
                        case SUCCEEDED -> "completed";
                        case ROLLED_BACK -> "rolled back";
                        case ROLLBACK_INCOMPLETE -> "rollback incomplete";
                        default -> "failed";
                    };
                }
                default -> {
                }
            }
        }
        if (status == null && recovered != null) {
            status = recovered;
        }
        if (status == null && recovering != null) {
            status = BEING_RECOVERED + recovering;
        }
        if (status == null) {
            long pid = start.path("pid").asLong(-1);
            boolean alive = pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            status = alive ? "running" : "interrupted";
        }
        String runId = start.path("run").asText();
        return new RunRecord(runId, file, start.path("ts").asText(), start.path("playbook").asText(), status, start,
                List.copyOf(steps.values()), recovering);
    }

    /** Every run under {@code directory}, newest first. */
    public static List<RunRecord> all(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(directory)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".jsonl"))
                    .sorted(java.util.Comparator.reverseOrder()).toList();
        }
        List<RunRecord> out = new ArrayList<>();
        for (Path f : files) {
            try {
                out.add(read(f));
            } catch (IOException e) {
                // not a journal: leave it out of the list
            }
        }
        return out;
    }
}
