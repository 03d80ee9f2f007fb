// asl-validator 4.0.0 ships JavaScript only; this is the part of its API the local runner calls.
declare module 'asl-validator' {
  interface AslValidationError {
    'Error code': string
    Message: string
  }
  interface AslValidationResult {
    isValid: boolean
    errors: AslValidationError[]
    errorsText(separator?: string): string
  }
  /** Validates an ASL definition. Note: it writes `QueryLanguage` into every state it visits. */
  function aslValidator(
    definition: unknown,
    options?: { checkPaths: boolean; checkArn: boolean },
  ): AslValidationResult
  export default aslValidator
}
