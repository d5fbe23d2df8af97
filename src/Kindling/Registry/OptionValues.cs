namespace Kindling.Registry;

/// <summary>
/// The option values given to a component's factory: what the caller set, checked against the component's schema
/// (unknown names and values of the wrong type are refused), with the schema's default for everything else. A factory
/// reads only options its schema declares (reading another is a bug in the registry and throws).
/// </summary>
public sealed class OptionValues
{
    private readonly Dictionary<string, object?> _given;
    private readonly Dictionary<string, OptionSpec> _specs;

    /// <summary>The component these values are for (its name starts every message).</summary>
    public string Owner { get; }

    /// <param name="owner">The component's name, for messages.</param>
    /// <param name="specs">Its option schema.</param>
    /// <param name="given">Options set by the caller: double (Number/Integer), bool, string (Choice/Text) or Tensor.</param>
    /// <param name="validateRanges">Also check ranges and choices (types are always checked). Off where the component
    /// validates itself with more specific messages (the losses' functional forms do).</param>
    public OptionValues(string owner, IReadOnlyList<OptionSpec> specs, IReadOnlyDictionary<string, object?>? given = null, bool validateRanges = true)
    {
        Owner = owner;
        _specs = specs.ToDictionary(s => s.Name);
        _given = new Dictionary<string, object?>();
        foreach (var (k, v) in given ?? new Dictionary<string, object?>())
        {
            if (!_specs.TryGetValue(k, out var spec))
                throw new ArgumentException($"{owner}: option '{k}' is not known; its options are: {(specs.Count == 0 ? "(none)" : string.Join(", ", specs.Select(s => s.Name)))}.", k);
            var value = v is int or long or float ? Convert.ToDouble(v, System.Globalization.CultureInfo.InvariantCulture) : v;
            if (validateRanges) spec.Validate(owner, value);
            else if (value != null && !TypeFits(spec.Kind, value)) spec.Validate(owner, value);
            _given[k] = value;
        }
    }

    private static bool TypeFits(OptionKind k, object v) => k switch
    {
        OptionKind.Number or OptionKind.Integer => v is double,
        OptionKind.Bool => v is bool,
        OptionKind.Choice or OptionKind.Text => v is string,
        _ => v is Tensor,
    };

    /// <summary>True when the caller set <paramref name="name"/>.</summary>
    public bool IsSet(string name) { Spec(name); return _given.ContainsKey(name); }

    private OptionSpec Spec(string name) => _specs.TryGetValue(name, out var s) ? s
        : throw new InvalidOperationException($"{Owner}: the registry's factory reads option '{name}', which its schema does not declare.");

    private object? Value(string name)
    {
        var spec = Spec(name);
        if (_given.TryGetValue(name, out var v) && v != null) return v;
        return spec.Default ?? (spec.Kind == OptionKind.Tensor ? null : throw new ArgumentException($"{Owner}: option '{name}' is required ({spec.Help}).", name));
    }

    public double Number(string name) => (double)Value(name)!;
    public long Integer(string name) => (long)(double)Value(name)!;
    public bool Bool(string name) => (bool)Value(name)!;
    public string Text(string name) => (string)Value(name)!;
    public Tensor? Tensor(string name) => (Tensor?)Value(name);
    /// <summary>The "reduction" option as a <see cref="NN.Reduction"/>.</summary>
    public NN.Reduction Reduction() => NN.Reductions.Parse(Text("reduction"), Owner);
}
