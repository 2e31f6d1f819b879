// @apidevtools/swagger-parser's validation of the served OpenAPI document.
const SwaggerParser = require('@apidevtools/swagger-parser');
SwaggerParser.validate(process.argv[2])
  .then((api) => console.log(`e2e: swagger-parser: ${api.info.title} ${api.info.version} valid`))
  .catch((e) => {
    console.error(`e2e: FAIL: swagger-parser: ${e.message}`);
    process.exit(1);
  });
