using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace Kindling.Generators;

/// <summary>
/// Kindling's one-definition generator (torchgen's idea, as a Roslyn incremental generator): from a loss's
/// <c>[Loss]</c>-attributed functional, an activation's <c>[Activation]</c>-attributed functional or an optimizer's
/// <c>[Optimizer]</c>-attributed constructor, and the <c>[Option]</c>s on their parameters, it writes
/// <list type="bullet">
/// <item>the loss and activation module classes (options as constructor parameters with the functional's defaults, one
/// property each, a Forward that calls the functional; losses typed by their number of inputs);</item>
/// <item>the registry entries of <c>Components.Losses</c>, <c>Activations</c> and <c>Optimizers</c> (names, aliases,
/// option names, types, defaults, ranges, help, factories);</item>
/// <item>which activation modules return a fresh buffer (what <c>Sequential</c> recycles).</item>
/// </list>
/// Everything is plain source: no reflection at run time, so NativeAOT keeps working.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class ComponentGenerator : IIncrementalGenerator
{
    private static readonly DiagnosticDescriptor[] Descriptors =
    [
        new("KG001", "Option without help", "{0}", "Kindling.Generators", DiagnosticSeverity.Error, true),
        new("KG002", "Wrong inputs", "{0}", "Kindling.Generators", DiagnosticSeverity.Error, true),
        new("KG003", "Unsupported option type", "{0}", "Kindling.Generators", DiagnosticSeverity.Error, true),
        new("KG004", "Bad choice option", "{0}", "Kindling.Generators", DiagnosticSeverity.Error, true),
        new("KG005", "Bad module order", "{0}", "Kindling.Generators", DiagnosticSeverity.Error, true),
    ];

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        IncrementalValueProvider<ImmutableArray<Parsed>> Collect(string attribute, string kind) =>
            context.SyntaxProvider.ForAttributeWithMetadataName(attribute,
                static (node, _) => true,
                (ctx, _) => Parser.Parse(kind, (IMethodSymbol)ctx.TargetSymbol, ctx.Attributes[0])).Collect();

        var losses = Collect("Kindling.Registry.LossAttribute", "loss");
        var activations = Collect("Kindling.Registry.ActivationAttribute", "activation");
        var optimizers = Collect("Kindling.Registry.OptimizerAttribute", "optimizer");
        var all = losses.Combine(activations).Combine(optimizers);

        context.RegisterSourceOutput(all, static (spc, t) =>
        {
            var ((l, a), o) = t;
            foreach (var p in l.Concat(a).Concat(o).SelectMany(p => p.Problems))
            {
                var d = Descriptors.First(x => x.Id == p.Id);
                var pos = new LinePosition(p.Line, p.Column);
                spc.ReportDiagnostic(Diagnostic.Create(d, Location.Create(p.File, default, new LinePositionSpan(pos, pos)), p.Message));
            }
            ComponentModel[] Models(ImmutableArray<Parsed> ps) =>
                ps.Select(p => p.Model).Where(m => m != null).Select(m => m!).OrderBy(m => m.Order).ThenBy(m => m.Name, System.StringComparer.Ordinal).ToArray();
            var lm = Models(l);
            var am = Models(a);
            var om = Models(o);
            spc.AddSource("LossModules.g.cs", Emitter.LossModules(lm));
            spc.AddSource("ActivationModules.g.cs", Emitter.ActivationModules(am));
            spc.AddSource("Components.g.cs", Emitter.Registry(lm, am, om));
        });
    }
}
