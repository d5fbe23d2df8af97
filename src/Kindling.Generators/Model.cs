using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace Kindling.Generators
{

/// <summary>An immutable array compared by its elements, so the incremental pipeline can cache models that hold one.</summary>
internal readonly struct Seq<T>(ImmutableArray<T> items) : IEquatable<Seq<T>>, IEnumerable<T> where T : IEquatable<T>
{
    private readonly ImmutableArray<T> _items = items;
    public ImmutableArray<T> Items => _items.IsDefault ? ImmutableArray<T>.Empty : _items;
    public int Count => Items.Length;
    public T this[int i] => Items[i];
    public bool Equals(Seq<T> other) => Items.SequenceEqual(other.Items);
    public override bool Equals(object? obj) => obj is Seq<T> s && Equals(s);
    public override int GetHashCode() => Items.Aggregate(17, (h, x) => h * 31 + (x?.GetHashCode() ?? 0));
    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Items).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

internal static class SeqExtensions
{
    public static Seq<T> ToSeq<T>(this IEnumerable<T> items) where T : IEquatable<T> => new(items.ToImmutableArray());
}

/// <summary>How an option's value is held and read.</summary>
internal enum OptionType { Number, Integer, Int32, Bool, Tensor, Reduction, Choice }

/// <summary>
/// One option of a component, read from a parameter: its C# name and type, the default as C# source (null: required),
/// the registry default as C# source, and what its <c>[Option]</c> attribute says.
/// </summary>
internal sealed record OptionModel(
    string Parameter, string Snake, string CsType, OptionType Type, string? DefaultSource, string RegistryDefault,
    string Help, string? Min, string? Max, bool MinExclusive, bool MaxExclusive, Seq<string> Choices, string? Flag, string? FromChoice);

/// <summary>What the generator knows of one attributed component.</summary>
internal sealed record ComponentModel(
    string Kind, string Name, string ClassName, string Help, string? ShortName, Seq<string> Aliases, int Order,
    string Method, Seq<string> Inputs, Seq<OptionModel> Options,
    Seq<string> PointwiseTasks, Seq<string> ModuleOrder, string? ModuleReduction, bool FreshBuffer, bool Register, string? SuggestedLr);

/// <summary>A problem in a definition, reported as a compile error at its place.</summary>
internal sealed record Problem(string Id, string Message, string File, int Line, int Column) : IEquatable<Problem>;

internal sealed record Parsed(ComponentModel? Model, Seq<Problem> Problems);

}

namespace System.Runtime.CompilerServices
{
    /// <summary>What records' init accessors need on netstandard2.0.</summary>
    internal static class IsExternalInit { }
}
