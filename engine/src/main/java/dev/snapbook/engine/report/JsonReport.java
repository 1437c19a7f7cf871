package dev.snapbook.engine.report;

import dev.snapbook.engine.plan.PlanReport;
import dev.snapbook.engine.plan.PlannedStep;
import dev.snapbook.engine.run.Execution;
import dev.snapbook.engine.run.RunStatus;
import dev.snapbook.engine.run.StepReport;
import dev.snapbook.engine.run.StepStatus;
import dev.snapbook.engine.spi.WorldRenderer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code --output json} document: {@code format_version}, overall {@code status}, {@code exit_code},
 * {@code steps[]} with name, type, status, changed, verified, message, and the problems; for {@code plan}, the
 * planned steps and the {@code picture} (each changed domain drawn today and after the run).
 */
public final class JsonReport {

    public static final int FORMAT_VERSION = 1;

    private JsonReport() {
    }

    /** The document for a run (or a refused or failed plan). */
    public static Map<String, Object> of(Execution.Result result) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format_version", FORMAT_VERSION);
        doc.put("status", result.status().name().toLowerCase(Locale.ROOT));
        doc.put("exit_code", result.exitCode());
        doc.put("message", result.message());
        if (result.run() != null) {
            doc.put("run_id", result.run().runId());
            doc.put("journal", result.run().journal());
            List<Map<String, Object>> steps = new ArrayList<>();
            for (StepReport s : result.run().steps()) {
                Map<String, Object> m = step(s);
                m.put("changed", s.changed());
                m.put("verified", s.verified());
                m.put("message", s.message());
                steps.add(m);
            }
            doc.put("steps", steps);
            doc.put("problems", result.run().problems());
            if (result.exitCode() == 3) {
                attention(doc, result);
            }
        } else {
            doc.put("plan", planSteps(result.plan()));
        }
        return doc;
    }

    /**
     * The document for a command that stopped before it could plan: invalid input ({@code status} {@code invalid},
     * exit code 2), a journal that cannot be written, an internal error. Nothing was run.
     */
    public static Map<String, Object> refused(String status, int exitCode, String message) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format_version", FORMAT_VERSION);
        doc.put("status", status);
        doc.put("exit_code", exitCode);
        doc.put("message", message);
        return doc;
    }

    /**
     * For a run that needs attention (exit code 3): {@code attention}, the steps to look at (those not rolled back
     * after a failed rollback; the step whose effect is unknown when the run stopped), and {@code recover}, the
     * command that takes the run on from its journal.
     */
    private static void attention(Map<String, Object> doc, Execution.Result result) {
        boolean stopped = result.status() == RunStatus.STOPPED;
        List<Map<String, Object>> attention = new ArrayList<>();
        for (StepReport s : result.run().steps()) {
            if (s.status() == StepStatus.NOT_ROLLED_BACK || (stopped && s.status() == StepStatus.FAILED)) {
                attention.add(step(s));
            }
        }
        doc.put("attention", attention);
        doc.put("recover", "snapbook recover " + result.run().runId() + (stopped ? "" : " --rollback"));
    }

    /** Which step, and how it ended: section, index, name, type, status. */
    private static Map<String, Object> step(StepReport s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("section", s.section());
        m.put("index", s.index());
        m.put("name", s.name());
        m.put("type", s.type());
        m.put("status", s.status().name().toLowerCase(Locale.ROOT));
        return m;
    }

    /** The document for {@code plan}. */
    public static Map<String, Object> of(PlanReport plan) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("format_version", FORMAT_VERSION);
        doc.put("status", plan.feasible() ? "feasible" : "infeasible");
        doc.put("exit_code", plan.exitCode());
        doc.put("failure", plan.failure());
        doc.put("plan", planSteps(plan));
        List<Map<String, Object>> picture = new ArrayList<>();
        for (WorldRenderer.Drawing d : Pictures.of(plan)) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("subject", d.subject());
            m.put("today", d.today());
            m.put("after", d.after());
            picture.add(m);
        }
        doc.put("picture", picture);
        return doc;
    }

    private static List<Map<String, Object>> planSteps(PlanReport plan) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (plan == null) {
            return out;
        }
        for (PlannedStep s : plan.steps()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("section", s.section());
            m.put("index", s.index());
            m.put("name", s.name());
            m.put("type", s.type());
            m.put("status", s.status().name().toLowerCase(Locale.ROOT));
            m.put("changes", s.changes());
            m.put("irreversible", s.irreversible());
            m.put("actions", s.actions());
            m.put("notes", s.notes());
            m.put("location", s.location());
            out.add(m);
        }
        return out;
    }
}
