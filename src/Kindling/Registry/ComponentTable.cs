namespace Kindling.Registry;

/// <summary>What every registered component has: a canonical name, aliases, a line of help and an option schema.</summary>
public abstract class ComponentEntry
{
    /// <summary>The canonical name (PyTorch's where it has one: <c>cross_entropy</c>, <c>adamw</c>, <c>relu</c>).</summary>
    public required string Name { get; init; }
    /// <summary>Other names accepted for it (matched like the name: case and '-'/'_' do not matter).</summary>
    public IReadOnlyList<string> Aliases { get; init; } = [];
    /// <summary>One line: what it is.</summary>
    public required string Help { get; init; }
    /// <summary>Its options, in PyTorch's argument order.</summary>
    public IReadOnlyList<OptionSpec> Options { get; init; } = [];

    /// <summary>The option named <paramref name="name"/>, or null.</summary>
    public OptionSpec? Option(string name) => Options.FirstOrDefault(o => o.Name == name);

    /// <summary>Option values for this component from what the caller set (see <see cref="OptionValues"/>).</summary>
    public OptionValues Values(IReadOnlyDictionary<string, object?>? given = null, bool validateRanges = true) => new(Name, Options, given, validateRanges);
}

/// <summary>
/// The registered components of one kind (losses, optimizers, ...), in declaration order, looked up by name or alias.
/// Names are matched ignoring case, with '-' and '_' alike (<c>leaky-relu</c> = <c>leaky_relu</c>).
/// </summary>
public sealed class ComponentTable<T> where T : ComponentEntry
{
    private readonly List<T> _entries;
    private readonly Dictionary<string, T> _byName = [];

    /// <summary>What the components are called in messages ("loss", "optimizer").</summary>
    public string Kind { get; }

    public ComponentTable(string kind, IEnumerable<T> entries)
    {
        Kind = kind;
        _entries = entries.ToList();
        foreach (var e in _entries)
            foreach (var n in e.Aliases.Prepend(e.Name))
                if (!_byName.TryAdd(Key(n), e) && !ReferenceEquals(_byName[Key(n)], e))
                    throw new InvalidOperationException($"registry: the {kind} name '{n}' is used by both {_byName[Key(n)].Name} and {e.Name}.");
    }

    /// <summary>The lookup key of a name: lower case, '-' as '_'.</summary>
    public static string Key(string name) => name.Trim().ToLowerInvariant().Replace('-', '_');

    /// <summary>Every entry, in declaration order.</summary>
    public IReadOnlyList<T> All => _entries;
    /// <summary>The canonical names, in declaration order.</summary>
    public IReadOnlyList<string> Names => _entries.Select(e => e.Name).ToList();

    public bool TryGet(string name, out T entry) => _byName.TryGetValue(Key(name), out entry!);

    /// <summary>The entry named <paramref name="name"/> (or an alias of it); an unknown name is an <see cref="ArgumentException"/> listing the known ones.</summary>
    public T Get(string name) => TryGet(name, out var e) ? e
        : throw new ArgumentException($"unknown {Kind} '{name}'; known: {string.Join(", ", Names)}.", nameof(name));

    /// <summary>"a, b, c or d": the names as a sentence lists them.</summary>
    public static string OrList(IEnumerable<string> names)
    {
        var l = names.ToList();
        return l.Count <= 1 ? string.Join("", l) : string.Join(", ", l.Take(l.Count - 1)) + " or " + l[^1];
    }
}
