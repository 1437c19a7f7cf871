package dev.snapbook.engine.load;

import dev.snapbook.engine.model.Location;
import dev.snapbook.engine.model.Playbook;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Finds, reads, loads and validates playbooks: files ({@code .yml}, {@code .yaml}, {@code .groovy}) and
 * bundled recipes ({@code recipe:NAME}), which are class path resources {@code snapbook/recipes/NAME.yml}
 * (or {@code .groovy}) listed in {@code snapbook/recipes/index}, or files in user recipe directories
 * ({@code --recipes DIR}, {@code $SNAPBOOK_RECIPES}), which win over bundled ones of the same name.
 */
public final class PlaybookFiles {

    /** A playbook's text and how to name it. */
    public record Source(String displayName, String text, boolean groovy) {
    }

    private final StepCatalog catalog;
    private final List<Path> recipeDirs;

    public PlaybookFiles(StepCatalog catalog, List<Path> recipeDirs) {
        this.catalog = catalog;
        this.recipeDirs = List.copyOf(recipeDirs);
    }

    /** User recipe directories from {@code $SNAPBOOK_RECIPES} (colon-separated), after {@code extra}. */
    public static List<Path> recipeDirs(List<Path> extra) {
        List<Path> dirs = new ArrayList<>(extra);
        String env = System.getenv("SNAPBOOK_RECIPES");
        if (env != null) {
            for (String p : env.split(":")) {
                if (!p.isBlank()) {
                    dirs.add(Path.of(p));
                }
            }
        }
        return dirs;
    }

    /** Reads {@code ref}: a path, or {@code recipe:NAME}. */
    public Source read(String ref) throws PlaybookError {
        if (ref.startsWith("recipe:")) {
            return readRecipe(ref.substring("recipe:".length()));
        }
        Path path = Path.of(ref);
        String lower = ref.toLowerCase(Locale.ROOT);
        boolean groovy = lower.endsWith(".groovy");
        if (!groovy && !lower.endsWith(".yml") && !lower.endsWith(".yaml")) {
            throw new PlaybookError(new Location(ref, 0, 0), null,
                    "a playbook file ends in .yml, .yaml or .groovy (a saved plan in .plan)");
        }
        try {
            return new Source(ref, Files.readString(path, StandardCharsets.UTF_8), groovy);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new PlaybookError(new Location(ref, 0, 0), null, "no such file");
        } catch (java.nio.charset.MalformedInputException e) {
            throw new PlaybookError(new Location(ref, 0, 0), null, "the file is not UTF-8 text");
        } catch (IOException e) {
            throw new PlaybookError(new Location(ref, 0, 0), null, "cannot read: " + e.getMessage());
        }
    }

    private Source readRecipe(String name) throws PlaybookError {
        if (!name.matches("[a-z0-9][a-z0-9-]*")) {
            throw new PlaybookError(new Location("recipe:" + name, 0, 0), null,
                    "a recipe name is lower-case letters, digits and '-'; 'snapbook recipes' lists them");
        }
        for (Path dir : recipeDirs) {
            for (String ext : List.of(".yml", ".groovy")) {
                Path p = dir.resolve(name + ext);
                if (Files.isRegularFile(p)) {
                    return read(p.toString());
                }
            }
        }
        for (String ext : List.of(".yml", ".groovy")) {
            String resource = "snapbook/recipes/" + name + ext;
            try (InputStream in = PlaybookFiles.class.getClassLoader().getResourceAsStream(resource)) {
                if (in != null) {
                    return new Source("recipe:" + name + ext, new String(in.readAllBytes(), StandardCharsets.UTF_8),
                            ext.equals(".groovy"));
                }
            } catch (IOException e) {
                throw new PlaybookError(new Location("recipe:" + name, 0, 0), null, "cannot read: " + e.getMessage());
            }
        }
        throw new PlaybookError(new Location("recipe:" + name, 0, 0), null, "no such recipe"
                + dev.snapbook.engine.expr.DidYouMeanText.suggest(name, recipeNames()) + "; 'snapbook recipes' lists them");
    }

    /** Names of every recipe: bundled ones, then user ones. */
    public List<String> recipeNames() {
        java.util.TreeSet<String> names = new java.util.TreeSet<>();
        try (InputStream in = PlaybookFiles.class.getClassLoader().getResourceAsStream("snapbook/recipes/index")) {
            if (in != null) {
                for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                    if (!line.isBlank() && !line.startsWith("#")) {
                        names.add(line.strip());
                    }
                }
            }
        } catch (IOException e) {
            // no bundled recipes readable: list the user's
        }
        for (Path dir : recipeDirs) {
            try (var files = Files.list(dir)) {
                files.map(p -> p.getFileName().toString())
                        .filter(f -> f.endsWith(".yml") || f.endsWith(".groovy"))
                        .forEach(f -> names.add(f.substring(0, f.lastIndexOf('.'))));
            } catch (IOException e) {
                // a missing user directory lists nothing
            }
        }
        return List.copyOf(names);
    }

    /** Loads and validates {@code source}. */
    public Playbook load(Source source) throws PlaybookError {
        Playbook playbook = source.groovy()
                ? groovyLoader().load(source.displayName(), source.text())
                : new YamlLoader(catalog.names()).load(source.displayName(), source.text());
        new Validator(catalog).validate(playbook);
        return playbook;
    }

    /** Reads, loads and validates {@code ref}. */
    public Playbook load(String ref) throws PlaybookError {
        return load(read(ref));
    }

    /** Created only for Groovy playbooks, so YAML playbooks never load Groovy's classes. */
    private static PlaybookLoader groovyLoader() {
        try {
            return (PlaybookLoader) Class.forName("dev.snapbook.engine.load.GroovyLoader")
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("the Groovy playbook loader is missing from the class path", e);
        }
    }
}
