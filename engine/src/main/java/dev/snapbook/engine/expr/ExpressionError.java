package dev.snapbook.engine.expr;

/** An expression could not be parsed or evaluated; the message quotes it and says where it went wrong. */
public class ExpressionError extends RuntimeException {

    public ExpressionError(String message) {
        super(message);
    }
}
