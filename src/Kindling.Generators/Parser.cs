using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace Kindling.Generators;

/// <summary>Reads an attributed definition (a method or constructor and its parameters' <c>[Option]</c>s) into a model.</summary>
internal static class Parser
{
    private const string OptionAttribute = "Kindling.Registry.OptionAttribute";

    public static Parsed Parse(string kind, IMethodSymbol method, AttributeData attribute)
    {
        var problems = new List<Problem>();
        void Fail(ISymbol at, string id, string message)
        {
            var loc = at.Locations.FirstOrDefault();
            var span = loc?.GetLineSpan();
            problems.Add(new Problem(id, message, span?.Path ?? "", span?.StartLinePosition.Line ?? 0, span?.StartLinePosition.Character ?? 0));
        }

        var args = attribute.ConstructorArguments;
        string name = (string)args[0].Value!;
        string className = kind == "optimizer" ? method.ContainingType.Name : (string)args[1].Value!;
        string help = (string)args[kind == "optimizer" ? 1 : 2].Value!;
        var named = attribute.NamedArguments.ToDictionary(a => a.Key, a => a.Value);
        string? Str(string key) => named.TryGetValue(key, out var v) ? v.Value as string : null;
        Seq<string> Strs(string key) => named.TryGetValue(key, out var v) && !v.IsNull ? v.Values.Select(x => (string)x.Value!).ToSeq() : default;
        int order = named.TryGetValue("Order", out var ov) ? (int)ov.Value! : int.MaxValue;
        bool fresh = named.TryGetValue("FreshBuffer", out var fv) && (bool)fv.Value!;
        bool register = !named.TryGetValue("Register", out var rv) || (bool)rv.Value!;
        string? suggestedLr = named.TryGetValue("SuggestedLr", out var sv) ? Number((double)sv.Value!) : null;

        var ps = method.Parameters;
        int first = 0;
        var inputs = new List<string>();
        if (kind == "loss")
        {
            while (first < ps.Length && IsTensor(ps[first].Type) && ps[first].NullableAnnotation != NullableAnnotation.Annotated && !ps[first].HasExplicitDefaultValue)
                inputs.Add(ps[first++].Name);
            if (inputs.Count < 2 || inputs.Count > 4)
                Fail(method, "KG002", $"{name}: a loss takes 2, 3 or 4 tensor inputs before its options; {method.Name} takes {inputs.Count}.");
        }
        else if (kind == "activation")
        {
            if (ps.Length == 0 || !IsTensor(ps[0].Type)) Fail(method, "KG002", $"{name}: an activation's first parameter is its input tensor.");
            else inputs.Add(ps[first++].Name);
        }
        else first = 1; // the optimizer's parameter list

        var options = new List<OptionModel>();
        for (int i = first; i < ps.Length; i++)
        {
            var p = ps[i];
            var opt = p.GetAttributes().FirstOrDefault(a => a.AttributeClass?.ToDisplayString() == OptionAttribute);
            var on = opt?.NamedArguments.ToDictionary(a => a.Key, a => a.Value) ?? new Dictionary<string, TypedConstant>();
            string? ostr(string key) => on.TryGetValue(key, out var v) ? v.Value as string : null;
            string? onum(string key) => on.TryGetValue(key, out var v) && v.Value is double d && !double.IsNaN(d) ? Number(d) : null;
            bool obool(string key) => on.TryGetValue(key, out var v) && (bool)v.Value!;
            var choices = on.TryGetValue("Choices", out var cv) && !cv.IsNull ? cv.Values.Select(x => (string)x.Value!).ToList() : null;
            string? fromChoice = ostr("FromChoice");
            string? optHelp = opt != null ? (string)opt.ConstructorArguments[0].Value! : null;

            var type = p.Type;
            string csType = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithMiscellaneousOptions(
                SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier | SymbolDisplayMiscellaneousOptions.UseSpecialTypes));
            OptionType ot;
            if (fromChoice != null) ot = OptionType.Choice;
            else if (type.ToDisplayString() == "Kindling.NN.Reduction") ot = OptionType.Reduction;
            else if (IsTensor(type)) ot = OptionType.Tensor;
            else ot = type.SpecialType switch
            {
                SpecialType.System_Double => OptionType.Number,
                SpecialType.System_Int64 => OptionType.Integer,
                SpecialType.System_Int32 => OptionType.Int32,
                SpecialType.System_Boolean => OptionType.Bool,
                _ => (OptionType)(-1),
            };
            if ((int)ot < 0) { Fail(p, "KG003", $"{name}: option '{p.Name}' has type {type.ToDisplayString()}, which no registry option holds (use FromChoice for a callable)."); continue; }
            if (optHelp == null && ot != OptionType.Reduction) { Fail(p, "KG001", $"{name}: option '{p.Name}' needs an [Option(\"help\")] attribute (its help line and range)."); continue; }
            if (ot == OptionType.Choice && (choices == null || choices.Count == 0)) { Fail(p, "KG004", $"{name}: option '{p.Name}' with FromChoice needs Choices."); continue; }

            string? defaultSource = null;
            string registryDefault = "null";
            if (p.HasExplicitDefaultValue)
            {
                var v = p.ExplicitDefaultValue;
                if (ot == OptionType.Reduction)
                {
                    var member = ((INamedTypeSymbol)type).GetMembers().OfType<IFieldSymbol>().First(f => f.HasConstantValue && Equals(f.ConstantValue, v)).Name;
                    defaultSource = "global::Kindling.NN.Reduction." + member;
                    registryDefault = Quote(member.ToLowerInvariant());
                }
                else
                {
                    defaultSource = Literal(v, ot);
                    registryDefault = ot switch
                    {
                        OptionType.Number => defaultSource,
                        OptionType.Integer or OptionType.Int32 => Convert.ToInt64(v, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture) + "L",
                        OptionType.Bool => defaultSource,
                        OptionType.Choice => Quote(choices![0]),
                        _ => "null",
                    };
                }
            }
            else if (ot == OptionType.Choice) { Fail(p, "KG004", $"{name}: option '{p.Name}' with FromChoice needs a default (the first choice)."); continue; }
            if (ot == OptionType.Reduction && choices == null) choices = ["none", "mean", "sum"];

            options.Add(new OptionModel(p.Name, Snake(p.Name), csType, ot, defaultSource, registryDefault,
                optHelp ?? "how the per-element losses are combined", onum("Min"), onum("Max"), obool("MinExclusive"), obool("MaxExclusive"),
                (choices ?? []).ToSeq(), ostr("Flag"), fromChoice));
        }

        var moduleOrder = Strs("ModuleOrder");
        if (moduleOrder.Count > 0 && !moduleOrder.OrderBy(s => s, StringComparer.Ordinal).SequenceEqual(options.Select(o => o.Snake).OrderBy(s => s, StringComparer.Ordinal)))
            Fail(method, "KG005", $"{name}: ModuleOrder must list every option once ({string.Join(", ", options.Select(o => o.Snake))}).");

        string methodName = kind == "optimizer" ? method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
            : method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + "." + method.Name;
        var model = new ComponentModel(kind, name, className, help, Str("ShortName"), Strs("Aliases"), order, methodName,
            inputs.ToSeq(), options.ToSeq(), Strs("PointwiseTasks"), moduleOrder, Str("ModuleReduction"), fresh, register, suggestedLr);
        return new Parsed(problems.Count == 0 ? model : null, problems.ToSeq());
    }

    private static bool IsTensor(ITypeSymbol t) => t.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString() == "Kindling.Tensor";

    /// <summary>camelCase → snake_case (<c>ignoreIndex</c> → <c>ignore_index</c>): PyTorch's keyword for a .NET parameter.</summary>
    public static string Snake(string camel)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < camel.Length; i++)
        {
            if (char.IsUpper(camel[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(camel[i]));
        }
        return sb.ToString();
    }

    public static string Pascal(string camel) => char.ToUpperInvariant(camel[0]) + camel.Substring(1);

    public static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    /// <summary>A double as C# source that reads back to the same value.</summary>
    public static string Number(double d)
    {
        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.IndexOfAny(['.', 'E', 'e']) >= 0 ? s : s + ".0";
    }

    private static string Literal(object? v, OptionType t) => v switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => Number(d),
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        int i => i.ToString(CultureInfo.InvariantCulture),
        string s => Quote(s),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture)!,
    };
}
