using System.Collections.Immutable;
using Kindling.Generators;
using Kindling.NN;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Kindling.Tests;

/// <summary>
/// The component generator (src/Kindling.Generators) on small sources compiled against Kindling: a definition yields
/// its module and registry entry; a definition it cannot read is a compile error at its place; and the generated
/// modules of Kindling itself are typed by arity and keep Sequential's fresh-buffer set.
/// </summary>
public class GeneratorTests
{
    // The attributes are internal to Kindling: the snippets declare the same ones, as a library of their own would.
    private const string Attributes = """
        namespace Kindling.Registry
        {
            [System.AttributeUsage(System.AttributeTargets.Method)] internal sealed class LossAttribute(string name, string module, string help) : System.Attribute
            { public string? ShortName { get; set; } public string[] Aliases { get; set; } = []; public int Order { get; set; } public string[] PointwiseTasks { get; set; } = []; public string[]? ModuleOrder { get; set; } public string? ModuleReduction { get; set; } }
            [System.AttributeUsage(System.AttributeTargets.Parameter)] internal sealed class OptionAttribute(string help) : System.Attribute
            { public double Min { get; set; } = double.NaN; public double Max { get; set; } = double.NaN; }
        }
        """;

    private static (ImmutableArray<Diagnostic> Diagnostics, string[] Sources) Run(string source)
    {
        var refs = AppDomain.CurrentDomain.GetAssemblies().Where(a => !a.IsDynamic && a.Location != "").Select(a => MetadataReference.CreateFromFile(a.Location))
            .Append(MetadataReference.CreateFromFile(typeof(Tensor).Assembly.Location));
        var compilation = CSharpCompilation.Create("Snippet", [CSharpSyntaxTree.ParseText(Attributes), CSharpSyntaxTree.ParseText(source, path: "Snippet.cs")], refs,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));
        var driver = CSharpGeneratorDriver.Create(new ComponentGenerator()).RunGeneratorsAndUpdateCompilation(compilation, out var output, out var diagnostics);
        var result = driver.GetRunResult();
        return (diagnostics, result.GeneratedTrees.Select(t => t.ToString()).ToArray());
    }

    [Fact]
    public void AnAttributedFunctionalBecomesAModuleAndAnEntry()
    {
        var (diags, sources) = Run("""
            using Kindling; using Kindling.NN; using Kindling.Registry;
            namespace Snippet;
            public static class MyLosses
            {
                [Loss("cube_loss", "CubeLoss", "|x − y|³", ShortName = "cube", PointwiseTasks = ["regression"])]
                public static Tensor CubeLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Sum, [Option("power", Min = 1)] double power = 3) => input;
            }
            """);
        Assert.DoesNotContain(diags, d => d.Severity == DiagnosticSeverity.Error);
        var modules = sources.Single(s => s.Contains("namespace Kindling.NN;") && s.Contains("CubeLoss"));
        Assert.Contains("public sealed partial class CubeLoss(global::Kindling.NN.Reduction reduction = global::Kindling.NN.Reduction.Sum, double power = 3.0)", modules);
        Assert.Contains(": Loss(reduction)", modules);
        Assert.Contains("public double Power { get; } = power;", modules);
        var registry = sources.Single(s => s.Contains("GeneratedLosses"));
        Assert.Contains("Name = \"cube_loss\", ShortName = \"cube\"", registry);
        Assert.Contains("OptionSpec.Choice(\"reduction\", \"sum\"", registry);
        Assert.Contains("OptionSpec.Number(\"power\", 3.0, \"power\", 1.0, null", registry);
        Assert.Contains("Pointwise((a, b) => global::Snippet.MyLosses.CubeLoss(a, b), \"regression\")", registry);
    }

    [Fact]
    public void AnOptionWithoutHelpOrALossWithOneInputIsACompileErrorAtItsPlace()
    {
        var (diags, _) = Run("""
            using Kindling; using Kindling.NN; using Kindling.Registry;
            namespace Snippet;
            public static class MyLosses
            {
                [Loss("bad_loss", "BadLoss", "no help")]
                public static Tensor BadLoss(Tensor input, Tensor target, double margin = 1) => input;
                [Loss("lonely_loss", "LonelyLoss", "one input")]
                public static Tensor LonelyLoss(Tensor input, Reduction reduction = Reduction.Mean) => input;
            }
            """);
        var kg001 = Assert.Single(diags, d => d.Id == "KG001");
        Assert.Equal(DiagnosticSeverity.Error, kg001.Severity);
        Assert.Contains("bad_loss: option 'margin' needs an [Option(\"help\")] attribute", kg001.GetMessage());
        Assert.Equal(5, kg001.Location.GetLineSpan().StartLinePosition.Line);
        Assert.Contains("lonely_loss: a loss takes 2, 3 or 4 tensor inputs before its options; LonelyLoss takes 1", Assert.Single(diags, d => d.Id == "KG002").GetMessage());
    }

    [Fact]
    public void KindlingsLossesAreTypedByArityAndSequentialKeepsItsFreshSet()
    {
        Assert.IsAssignableFrom<ThreeInputLoss>(new GaussianNLLLoss());
        Assert.IsAssignableFrom<ThreeInputLoss>(new TripletMarginLoss());
        Assert.IsAssignableFrom<FourInputLoss>(new CTCLoss());
        Assert.IsAssignableFrom<Loss>(new MSELoss());
        // No loss module has a Forward that takes the wrong number of tensors (the old ones threw at run time).
        foreach (var t in typeof(LossModule).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(LossModule)) && !t.IsAbstract))
        {
            int arity = ((LossModule)Activator.CreateInstance(t, t.GetConstructors()[0].GetParameters().Select(p => p.DefaultValue).ToArray())!).Arity;
            var forwards = t.GetMethods().Where(m => m.Name == "Forward" && m.DeclaringType == t).ToArray();
            Assert.True(forwards.Length == 1 && forwards[0].GetParameters().Length == arity, $"{t.Name}: Forward overloads {string.Join("; ", forwards.Select(f => f.GetParameters().Length))}, arity {arity}");
        }
        Module[] fresh = [new ReLU(), new Sigmoid(), new Tanh(), new GELU()];
        Module[] kept = [new LeakyReLU(), new ELU(), new SiLU(), new Softplus(), new Dropout(), new Identity()];
        Assert.All(fresh, m => Assert.True(m.ReturnsFreshBuffer, m.GetType().Name));
        Assert.All(kept, m => Assert.False(m.ReturnsFreshBuffer, m.GetType().Name));
    }
}
