package dev.snapbook.engine.expr;

import java.util.Collection;

/** The " (did you mean X?)" suffix for a near miss, by edit distance; empty when nothing is near. */
public final class DidYouMeanText {

    private DidYouMeanText() {
    }

    /** {@code " (did you mean 'x'?)"} for the closest candidate within a small distance, else {@code ""}. */
    public static String suggest(String given, Collection<String> candidates) {
        return nearest(given, candidates).map(best -> " (did you mean '" + best + "'?)").orElse("");
    }

    /** The candidate closest to {@code given}, when it is within a small edit distance. */
    public static java.util.Optional<String> nearest(String given, Collection<String> candidates) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance(given.toLowerCase(java.util.Locale.ROOT), c.toLowerCase(java.util.Locale.ROOT));
            if (d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        int allowed = Math.max(2, given.length() / 3);
        return best != null && bestDistance <= allowed ? java.util.Optional.of(best) : java.util.Optional.empty();
    }

    /** Damerau-Levenshtein distance (optimal string alignment): a swap of two letters counts as one edit. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
