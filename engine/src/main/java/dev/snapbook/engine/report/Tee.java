package dev.snapbook.engine.report;

import dev.snapbook.engine.run.RunListener;

import java.util.List;

/** A {@link RunListener} that passes every event to each of its listeners, in order (the terminal, a log file). */
public final class Tee implements RunListener {

    private final List<RunListener> listeners;

    public Tee(List<RunListener> listeners) {
        this.listeners = List.copyOf(listeners);
    }

    @Override
    public void onRunStarted(RunStarted event) {
        listeners.forEach(l -> l.onRunStarted(event));
    }

    @Override
    public void onStepStarted(StepStarted event) {
        listeners.forEach(l -> l.onStepStarted(event));
    }

    @Override
    public void onStepFinished(StepFinished event) {
        listeners.forEach(l -> l.onStepFinished(event));
    }

    @Override
    public void onStepUndone(StepUndone event) {
        listeners.forEach(l -> l.onStepUndone(event));
    }

    @Override
    public void onStepProgress(String what, double percent) {
        listeners.forEach(l -> l.onStepProgress(what, percent));
    }

    @Override
    public void onStepProgress(StepProgress event) {
        listeners.forEach(l -> l.onStepProgress(event));
    }

    @Override
    public void onTrace(String line) {
        listeners.forEach(l -> l.onTrace(line));
    }

    @Override
    public void onRunFinished(RunFinished event) {
        listeners.forEach(l -> l.onRunFinished(event));
    }
}
