// The AWS SDK warns once per process that its 2027 releases need Node 22; the
// functions are deployed on nodejs22.x and the notice only buries test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
