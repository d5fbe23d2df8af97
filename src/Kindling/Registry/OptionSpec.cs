using System.Globalization;

namespace Kindling.Registry;

/// <summary>The type of a component option's value.</summary>
public enum OptionKind
{
    /// <summary>A real number (double).</summary>
    Number,
    /// <summary>A whole number (read as double, checked to be integral).</summary>
    Integer,
    /// <summary>true or false.</summary>
    Bool,
    /// <summary>One of <see cref="OptionSpec.Choices"/>.</summary>
    Choice,
    /// <summary>Free text.</summary>
    Text,
    /// <summary>A tensor (class weights and the like); not settable from the command line.</summary>
    Tensor,
}

/// <summary>
/// One option of a registered component, as PyTorch documents an argument: its name (PyTorch's snake_case keyword), type,
/// default (null: required, or "none" for an optional tensor), the valid range and a line of help. <see cref="Flag"/> names
/// the <c>kindling</c> command-line option that sets it, when there is one.
/// </summary>
public sealed record OptionSpec(string Name, OptionKind Kind, object? Default, string Help)
{
    /// <summary>Smallest valid value (Number/Integer), inclusive unless <see cref="MinExclusive"/>.</summary>
    public double? Min { get; init; }
    /// <summary>Largest valid value, inclusive unless <see cref="MaxExclusive"/>.</summary>
    public double? Max { get; init; }
    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }
    /// <summary>The valid values of a <see cref="OptionKind.Choice"/>.</summary>
    public IReadOnlyList<string>? Choices { get; init; }
    /// <summary>The command-line option that sets this one (e.g. <c>--momentum</c>), or null.</summary>
    public string? Flag { get; init; }

    public static OptionSpec Number(string name, double? @default, string help, double? min = null, double? max = null, bool minExclusive = false, bool maxExclusive = false, string? flag = null) =>
        new(name, OptionKind.Number, @default, help) { Min = min, Max = max, MinExclusive = minExclusive, MaxExclusive = maxExclusive, Flag = flag };
    public static OptionSpec Integer(string name, long? @default, string help, double? min = null, double? max = null) =>
        new(name, OptionKind.Integer, @default is long l ? (double)l : null, help) { Min = min, Max = max };
    public static OptionSpec Bool(string name, bool @default, string help) => new(name, OptionKind.Bool, @default, help);
    public static OptionSpec Choice(string name, string @default, string help, params string[] choices) => new(name, OptionKind.Choice, @default, help) { Choices = choices };
    public static OptionSpec Text(string name, string? @default, string help) => new(name, OptionKind.Text, @default, help);
    public static OptionSpec TensorOption(string name, string help) => new(name, OptionKind.Tensor, null, help);

    /// <summary>The valid range in words ("≥ 0", "in [0, 1)", "one of none, mean, sum"), or "" when any value goes.</summary>
    public string RangeText()
    {
        if (Choices != null) return "one of " + string.Join(", ", Choices);
        string S(double v) => v.ToString("G", CultureInfo.InvariantCulture);
        return (Min, Max) switch
        {
            (double lo, double hi) => $"in {(MinExclusive ? "(" : "[")}{S(lo)}, {S(hi)}{(MaxExclusive ? ")" : "]")}",
            (double lo, null) => $"{(MinExclusive ? ">" : "≥")} {S(lo)}",
            (null, double hi) => $"{(MaxExclusive ? "<" : "≤")} {S(hi)}",
            _ => "",
        };
    }

    /// <summary>
    /// Checks a value of this option; throws an <see cref="ArgumentException"/> naming the component, the option, the
    /// value and the valid range. NaN fails every range.
    /// </summary>
    public void Validate(string owner, object? value)
    {
        if (value is null) return;
        string Bad(string what) => $"{owner}: option '{Name}' {what}";
        switch (Kind)
        {
            case OptionKind.Number or OptionKind.Integer:
                if (value is not double d) throw new ArgumentException(Bad($"must be a number, got {value}."), Name);
                bool ok = !double.IsNaN(d)
                    && (Min is not double lo || (MinExclusive ? d > lo : d >= lo))
                    && (Max is not double hi || (MaxExclusive ? d < hi : d <= hi))
                    && (Kind != OptionKind.Integer || (double.IsFinite(d) && Math.Floor(d) == d));
                if (!ok) throw new ArgumentException(Bad($"must be {(Kind == OptionKind.Integer ? "a whole number " : "")}{RangeText()}, got {d.ToString("G", CultureInfo.InvariantCulture)}.").Replace("  ", " "), Name);
                break;
            case OptionKind.Bool:
                if (value is not bool) throw new ArgumentException(Bad($"must be true or false, got {value}."), Name);
                break;
            case OptionKind.Choice:
                if (value is not string s || !Choices!.Contains(s)) throw new ArgumentException(Bad($"must be {RangeText()}, got '{value}'."), Name);
                break;
            case OptionKind.Text:
                if (value is not string) throw new ArgumentException(Bad($"must be text, got {value}."), Name);
                break;
            case OptionKind.Tensor:
                if (value is not Kindling.Tensor) throw new ArgumentException(Bad($"must be a tensor, got {value}."), Name);
                break;
        }
    }

    /// <summary>The default as shown in help ("required" when there is none).</summary>
    public string DefaultText() => Default switch
    {
        null => Kind == OptionKind.Tensor ? "none" : "required",
        double d => d.ToString("G", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        var v => v.ToString() ?? "",
    };
}
