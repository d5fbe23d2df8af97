namespace Kindling.IO;

/// <summary>
/// A <c>torch.save</c> file could not be read: it is damaged, in a format Kindling does not read, or its pickle asks for
/// something a state dict never needs (any other global, opcode or call is refused, never executed). The message names
/// the file and the offending entry, global or opcode.
/// </summary>
public sealed class TorchSaveException : FormatException
{
    /// <summary>Creates the exception with a message naming the file and the problem.</summary>
    public TorchSaveException(string message) : base(message) { }

    /// <summary>Creates the exception wrapping the lower-level error that revealed the problem.</summary>
    public TorchSaveException(string message, Exception inner) : base(message, inner) { }
}
